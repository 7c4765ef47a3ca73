"""Declare GTASun, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.GTASun(num_score_heads=5, num_out_heads=20, head_dim=64, latent_dim=128))
