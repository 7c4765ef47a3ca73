"""Declare MQA, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.MQA(num_q_heads=32, head_dim=128))
