"""Declare MLA, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.MLA(num_q_heads=128, latent_dim=512, rope_dim=64))
