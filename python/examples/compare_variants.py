"""For one model configuration (Llama-3-8B-like: 32 query heads of 128),
every variant's cache per token and the compiler's predicted decode time
(roofline at B=16, L=8192 on an H100, from attn-report) side by side."""
import attn

variants = [
    attn.MHA(32, 128), attn.GQA(32, 8, 128), attn.MQA(32, 128),
    attn.GTA(32, 8, 128, rope_dim=64), attn.MLA(32), attn.GLA(32),
    attn.MFA(32, 256), attn.MFA_KR(32, 256), attn.GTASun(8, 32, 128, 256),
    attn.MTLA(32, time_stride=2),
]
print(f"{'variant':8} {'cache B/token':>14} {'vs MHA':>7} {'schedule':>9} {'decode us (pred.)':>18}")
for v in variants:
    f = v.decode_facts()
    print(f"{v.name:8} {f['cache_bytes']:>14.1f} {f['vs_mha']:>7.3f} {f['schedule']:>9} "
          f"{f['predicted_decode_us']:>18.1f}")
