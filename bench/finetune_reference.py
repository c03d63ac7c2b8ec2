"""Full fine-tuning of all-MiniLM-L6-v2 on PyTorch (the reference of bench/finetune.sh):
the same training reviews (JSON lines from examples/review_split), the same model
(mean pooling, a linear head, squared error for the rating or binary cross-entropy on
the recommended flag's logit), micro-batches of the same size grouped by length the same way (shuffled,
sorted within pools of 50 batches, cut, batches shuffled), the same truncation, AdamW with
the same learning rate, warm-up and weight decay. Prints training examples per second over
one epoch (forward, backward, update; texts tokenized before the clock starts)."""
import json, os, random, sys, time

import torch
from transformers import AutoModel, AutoTokenizer

path, task = sys.argv[1], sys.argv[2]
batch = int(os.environ.get("BATCH", "16"))
max_tokens = int(os.environ.get("MAX_TOKENS", "64"))
lr = float(os.environ.get("LR", "3e-5"))
device = os.environ.get("DEVICE", "cpu")
rows = [json.loads(l) for l in open(path)]
model_dir = os.path.join(os.environ["SHOPLAB_DATASETS"], "minilm")
tok = AutoTokenizer.from_pretrained(model_dir)
# No dropout: the encoder trained here has none either (the same arithmetic per step).
enc = AutoModel.from_pretrained(model_dir, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
head = torch.nn.Linear(enc.config.hidden_size, 1)  # the rating, or the flag's logit
enc, head = enc.to(device), head.to(device)
params = list(enc.parameters()) + list(head.parameters())
opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

rng = random.Random(1)
idx = list(range(len(rows)))
rng.shuffle(idx)
lengths = [len(tok(r["text"], truncation=True, max_length=max_tokens)["input_ids"]) for r in rows]
pool = 50 * batch
idx = [k for p in range(0, len(idx), pool) for k in sorted(idx[p:p + pool], key=lambda k: lengths[k])]
batches = [idx[i:i + batch] for i in range(0, len(idx), batch)]
rng.shuffle(batches)
steps = len(batches)
warm = max(1, int(0.1 * steps))
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
inputs = []
for b in batches:
    t = tok([rows[k]["text"] for k in b], padding=True, truncation=True, max_length=max_tokens,
            return_tensors="pt")
    y = torch.tensor([rows[k]["target"] for k in b])
    inputs.append(({k: v.to(device) for k, v in t.items()}, y.float().to(device)))

enc.train()
start = time.time()
for t, y in inputs:
    states = enc(**t).last_hidden_state
    m = t["attention_mask"].unsqueeze(-1).float()
    pooled = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    out = head(pooled).squeeze(-1)
    loss = (torch.nn.functional.mse_loss(out, y) if task == "rating"
            else torch.nn.functional.binary_cross_entropy_with_logits(out, y))
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
if device != "cpu":
    torch.cuda.synchronize()
secs = time.time() - start
where = f"cpu, {torch.get_num_threads()} threads" if device == "cpu" else torch.cuda.get_device_name()
print(f"PyTorch {torch.__version__} ({where}), full fine-tuning, {task}: "
      f"{len(rows)} examples in {secs:.1f} s = {len(rows) / secs:.1f} examples/s")
