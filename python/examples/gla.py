"""Declare GLA, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.GLA(num_q_heads=128, num_latent_heads=2, latent_dim=256))
