"""Declare MTLA, report its decode cost and compile it for sm_90a and gfx942."""
import attn
from _show import show

show(attn.MTLA(num_q_heads=32, time_stride=2))
