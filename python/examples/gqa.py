"""Declare GQA, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.GQA(num_q_heads=32, num_kv_heads=8, head_dim=128))
