"""Declare MFA, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.MFA(num_q_heads=64, head_dim=256))
