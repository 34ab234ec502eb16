#!/usr/bin/env python3
# Trains TTSR-rec (L1 reconstruction) on pairs from make_pairs.py.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Train TTSR: reconstruction loss (the paper's TTSR-rec) or the full objective.

The LTE is trained jointly (lr 1e-5, the official lr_rate_lte) with the main
network (1e-4), Adam betas (0.9, 0.999).  Runs on CPU (BF16 autocast where
the CPU has AVX512-BF16) or CUDA (FP16 mixed precision).  Every
--val-minutes it logs validation PSNR-Y (the metric of the official
utils.calc_psnr) with the related reference, an unrelated one and the LR
image as its own reference; it checkpoints to RUN/last.pt and resumes from
it; without RUN/last.pt it starts from --init (by default the weights on
main, data/refsr-default.safetensors, with a fresh optimiser).  It exports
the weights with the official key names to RUN/model.safetensors (and
RUN/best.safetensors for the best validation PSNR).  SIGINT/SIGTERM or the
end of --minutes stop it cleanly after the current step, with a checkpoint.
"""

import argparse
import json
import math
import os
import contextlib
import random
import signal
import sys
import time


def pin_blas_threads(argv):
    """torch.set_num_threads does not reach OpenBLAS's own thread pool (it ran
    torch.bmm on 2 cores with --threads 1); size it before torch loads it."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--threads", type=int, default=0)
    threads = pre.parse_known_args(argv)[0].threads
    if threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


pin_blas_threads(sys.argv[1:])

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import init_weights  # noqa: E402
import losses  # noqa: E402
import st_io  # noqa: E402
import ttsr  # noqa: E402

SHIPPED = os.path.normpath(os.path.join(HERE, "..", "..", "data", "refsr-default.safetensors"))


# -------------------------------------------------------------------- data

def load_rgb(path):
    return Image.open(path).convert("RGB")


def down_up(img):
    """Ref -> /4 -> x4 with PIL bicubic, two uint8 passes (spec 3.1)."""
    w, h = img.size
    return img.resize((w // 4, h // 4), Image.BICUBIC).resize((w, h), Image.BICUBIC)


def to_tensor(arr):
    """uint8 HWC -> float32 CHW in [-1, 1], as the official loader does."""
    return torch.from_numpy(arr.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)


class TrainSet:
    """All training pairs in memory as uint8 arrays (a few hundred MB)."""

    def __init__(self, folder):
        with open(os.path.join(folder, "manifest.json")) as f:
            ids = [s["id"] for s in json.load(f)["samples"]]
        self.hr, self.lr, self.ref, self.refsr = [], [], [], []
        for i in ids:
            hr = load_rgb(os.path.join(folder, f"{i}_hr.png"))
            ref = load_rgb(os.path.join(folder, f"{i}_ref.png"))
            self.hr.append(np.asarray(hr))
            self.lr.append(np.asarray(hr.resize((hr.width // 4, hr.height // 4),
                                                Image.BICUBIC)))
            self.ref.append(np.asarray(ref))
            self.refsr.append(np.asarray(down_up(ref)))

    def __len__(self):
        return len(self.hr)

    def reference(self, rng, i, kind):
        """(ref, ref down-up) of sample i for a batch of `kind`: its own
        reference, another sample's (unrelated), or its LR image (self)."""
        if kind == "unrelated":
            j = rng.randrange(len(self) - 1)
            j += j >= i
            return self.ref[j], self.refsr[j]
        if kind == "lr-self":  # the Urban100 protocol: LR is its own reference
            lr = self.lr[i]
            return lr, np.asarray(down_up(Image.fromarray(lr)))
        return self.ref[i], self.refsr[i]

    def sample(self, rng, lr_crop, kind="paired"):
        """One augmented sample: dict of CHW tensors lr, lrsr, hr, ref, refsr."""
        i = rng.randrange(len(self))
        lr_full = self.lr[i]
        c = min(lr_crop, lr_full.shape[0], lr_full.shape[1])
        y, x = rng.randrange(lr_full.shape[0] - c + 1), rng.randrange(lr_full.shape[1] - c + 1)
        lr = lr_full[y:y + c, x:x + c]
        hr = self.hr[i][4 * y:4 * (y + c), 4 * x:4 * (x + c)]
        # LR^ is made from the LR crop itself, as at inference.
        lrsr = np.asarray(Image.fromarray(lr).resize((4 * c, 4 * c), Image.BICUBIC))
        arrays = [lr, lrsr, hr, *self.reference(rng, i, kind)]
        # Flips / 90-degree turns: the same for all images keeps them aligned.
        k, flip = rng.randrange(4), rng.randrange(2)
        arrays = [np.rot90(a[:, ::-1] if flip else a, k) for a in arrays]
        names = ("lr", "lrsr", "hr", "ref", "refsr")
        return {n: to_tensor(np.ascontiguousarray(a)) for n, a in zip(names, arrays)}


def batch_kind(rng, p_unrelated, p_lr_self):
    """One kind per batch: references of one kind share a size to stack."""
    u = rng.random()
    return ("unrelated" if u < p_unrelated else
            "lr-self" if u < p_unrelated + p_lr_self else "paired")


def batch(dataset, rng, args):
    kind = batch_kind(rng, args.p_unrelated, args.p_lr_self)
    samples = [dataset.sample(rng, args.lr_crop, kind) for _ in range(args.batch)]
    memory = torch.channels_last if args.channels_last else torch.contiguous_format
    return {k: torch.stack([s[k] for s in samples]).to(args.device).contiguous(
        memory_format=memory) for k in samples[0]}


class ValSet:
    """Validation pairs: (name, tensors with ref, tensors with unrelated ref)."""

    def __init__(self, folder, limit=0):
        with open(os.path.join(folder, "manifest.json")) as f:
            ids = [s["id"] for s in json.load(f)["samples"]]
        # Every n-th item: a spread-out subset keeps periodic validation cheap.
        if 0 < limit < len(ids):
            ids = ids[::-(-len(ids) // limit)]
        self.items = []
        for i in ids:
            hr = load_rgb(os.path.join(folder, f"{i}_hr.png"))
            lr = load_rgb(os.path.join(folder, f"{i}_lr.png"))
            lrsr = lr.resize(hr.size, Image.BICUBIC)
            item = {"name": i, "hr": np.asarray(hr), "lrsr_u8": np.asarray(lrsr),
                    "lr": to_tensor(np.asarray(lr))[None],
                    "lrsr": to_tensor(np.asarray(lrsr))[None]}
            for kind in ("ref", "unrelated"):
                ref = load_rgb(os.path.join(folder, f"{i}_{kind}.png"))
                item[kind] = (to_tensor(np.asarray(ref))[None],
                              to_tensor(np.asarray(down_up(ref)))[None])
            item["self"] = (item["lr"], to_tensor(np.asarray(down_up(lr)))[None])
            self.items.append(item)


# ----------------------------------------------------------------- metrics

def luma(u8):
    a = u8.astype(np.float64)
    return (65.738 * a[..., 0] + 129.057 * a[..., 1] + 25.064 * a[..., 2]) / 256.0


def psnr_y(a_u8, b_u8):
    mse = np.mean((luma(a_u8) - luma(b_u8)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def to_u8(sr):
    """[1,3,H,W] in [-1,1] -> uint8 HWC, round half to even like torch.round."""
    return torch.round((sr[0].float().cpu() + 1.0) * 127.5).permute(1, 2, 0).numpy().astype(np.uint8)


def validate(model, valset, device):
    model.eval()
    scores = {"ref": [], "unrelated": [], "self": [], "bicubic": []}
    with torch.no_grad():
        for it in valset.items:
            for kind in ("ref", "unrelated", "self"):
                ref, refsr = (t.to(device) for t in it[kind])
                sr = model(it["lr"].to(device), it["lrsr"].to(device), ref, refsr)
                scores[kind].append(psnr_y(to_u8(sr), it["hr"]))
            scores["bicubic"].append(psnr_y(it["lrsr_u8"], it["hr"]))
    model.train()
    return {k: float(np.mean(v)) for k, v in scores.items()}


# ------------------------------------------------------------ checkpoints

def export_safetensors(model, path, f16, meta):
    """Official keys and order; F16 storage halves the file for shipping."""
    tensors = {}
    for k, v in model.export_state().items():
        a = v.float().cpu().numpy()
        tensors[k] = a.astype(np.float16) if f16 else a
    tmp = path + ".tmp"
    st_io.write(tmp, tensors, meta)
    os.replace(tmp, path)


def save_checkpoint(path, model, opt, scaler, objective, state):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                "scaler": scaler.state_dict(), "state": state,
                "objective": objective.state_dict() if objective else None,
                "rng": random.getstate(), "torch_rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, path)  # a crash mid-write never leaves a torn checkpoint


def load_checkpoint(path, model, opt, scaler, objective):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["opt"])
    scaler.load_state_dict(ck["scaler"])
    if objective and ck.get("objective"):
        objective.load_state_dict(ck["objective"])
    random.setstate(ck["rng"])
    torch.set_rng_state(ck["torch_rng"])
    return ck["state"]


def load_weights(model, path):
    """Weights only (a safetensors file with the official keys): the start of
    a run that has no checkpoint, e.g. the shipped model on a new machine."""
    tensors, _ = st_io.read(path)
    blocks, n_feats = ttsr.config_from_state(tensors)
    if n_feats != model.n_feats or any(a > b for a, b in zip(blocks, model.config)):
        raise SystemExit(f"{path} is a {'+'.join(map(str, blocks))} n_feats {n_feats} "
                         f"model, which does not fit in {'+'.join(map(str, model.config))} "
                         f"n_feats {model.n_feats}: pass --init structured or its --config")
    grown = init_weights.grow(model, tensors)  # deeper --config: identity blocks
    return grown


# ---------------------------------------------------------------- training

def make_optimizer(model, lr_main, lr_lte):
    lte = [p for p in model.LTE.parameters() if p.requires_grad]
    main = list(model.MainNet.parameters())
    return torch.optim.Adam([{"params": main, "lr": lr_main, "initial_lr": lr_main},
                             {"params": lte, "lr": lr_lte, "initial_lr": lr_lte}],
                            betas=(0.9, 0.999))


def set_lr(opt, iteration, warmup, cosine_iters):
    """Linear warm-up: Adam's first steps are full-size whatever the gradient
    scale, which would knock the structured start off course.  Then constant,
    or a cosine decay to 5% over cosine_iters (settles the weights in a
    minimum the noisy constant-rate steps only circle)."""
    factor = min(1.0, (iteration + 1) / warmup) if warmup > 0 else 1.0
    if cosine_iters > 0:
        t = min(iteration, cosine_iters) / cosine_iters
        factor *= 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * t))
    for group in opt.param_groups:
        group["lr"] = group["initial_lr"] * factor


def train_step(model, opt, scaler, data, autocast):
    with autocast():
        if any(p.requires_grad for p in model.LTE.parameters()):
            sr = model(data["lr"], data["lrsr"], data["ref"], data["refsr"])
        else:
            # A frozen LTE needs no gradient anywhere upstream of the textures:
            # the search, the three LTE passes and the transfer run once, with
            # no graph (a third of a step's work, the profile says).
            with torch.no_grad():
                S, _, t3, t2, t1 = model.textures(data["lrsr"], data["ref"], data["refsr"])
            sr = model.MainNet(data["lr"], S, t3, t2, t1)
    loss = torch.nn.functional.l1_loss(sr.float(), data["hr"])
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    return {"rec": float(loss)}


def cpu_has_bf16():
    """AVX512-BF16 or AMX: BF16 convolutions run natively (oneDNN)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def precision_for(args):
    """(autocast context factory, GradScaler enabled): FP16 with loss scaling
    on CUDA, BF16 (no scaling: float32's exponent range) on CPU."""
    kind = args.precision
    if kind == "auto":
        kind = ("fp16" if args.device.startswith("cuda")
                else "bf16" if cpu_has_bf16() else "fp32")
    if kind == "fp32":
        return kind, contextlib.nullcontext, False
    device = "cuda" if args.device.startswith("cuda") else "cpu"
    dtype = torch.float16 if kind == "fp16" else torch.bfloat16
    return kind, (lambda: torch.autocast(device, dtype=dtype)), kind == "fp16"


class Logger:
    def __init__(self, path):
        self.file = open(path, "a", buffering=1)

    def __call__(self, text):
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + text
        print(line, flush=True)
        self.file.write(line + "\n")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    repo = os.path.normpath(os.path.join(HERE, "..", ".."))
    ap.add_argument("--pairs", default=os.path.join(repo, ".datasets", "pairs"))
    ap.add_argument("--run", default=os.path.join(repo, ".datasets", "runs", "default"))
    ap.add_argument("--config", default="16+16+8+4", help="ResBlocks a+b+c+d")
    ap.add_argument("--n-feats", type=int, default=64)
    ap.add_argument("--batch", type=int, default=9)
    ap.add_argument("--lr-crop", type=int, default=40, help="LR training crop (HR = 4x)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lr-lte", type=float, default=1e-5)
    ap.add_argument("--warmup", type=int, default=0, help="iterations of linear lr warm-up")
    ap.add_argument("--cosine-iters", type=int, default=0,
                    help="decay the learning rates to 5%% over this many iterations "
                         "of the run (0: constant)")
    ap.add_argument("--init", default="main",
                    help="start of a run without RUN/last.pt: 'main' (the shipped "
                         "data/refsr-default.safetensors, fresh optimiser), 'structured' "
                         "(bicubic-upsampler init), 'random', or a .safetensors file")
    ap.add_argument("--p-unrelated", type=float, default=0.1,
                    help="share of batches whose references are another sample's")
    ap.add_argument("--p-lr-self", type=float, default=0.15,
                    help="share of batches whose reference is their own LR image")
    ap.add_argument("--objective", choices=("rec", "full"), default="rec",
                    help="rec: L1 (TTSR-rec); full: + perceptual, transferal "
                         "perceptual and WGAN-GP (tools/train/losses.py)")
    ap.add_argument("--weights", default="rec:1,per:0.01,tpl:0.01,adv:0.001",
                    help="loss weights of --objective full (train.sh's)")
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                    help="auto: fp16 on CUDA, bf16 on CPUs with AVX512-BF16/AMX, else fp32")
    ap.add_argument("--channels-last", action="store_true", help="NHWC tensors (faster oneDNN convs)")
    ap.add_argument("--freeze-lte", action="store_true",
                    help="keep the texture extractor fixed (fine-tuning): the textures "
                         "are then computed without autograd, a faster step")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda")
    ap.add_argument("--minutes", type=float, default=60.0, help="wall-time budget of this invocation")
    ap.add_argument("--max-iters", type=int, default=0, help="stop at this iteration (0: none)")
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--val-minutes", type=float, default=10.0)
    ap.add_argument("--val-items", type=int, default=0,
                    help="validate on this many pairs during training (0: all); the last run uses all")
    ap.add_argument("--f16", action="store_true", help="export weights as F16")
    args = ap.parse_args()
    try:
        args.weights = {k: float(v) for k, v in
                        (part.split(":") for part in args.weights.split(","))}
    except ValueError:
        ap.error("--weights: NAME:VALUE,... with NAME in rec, per, tpl, adv")
    return args


def initialise(model, args):
    if args.init == "structured":
        init_weights.structured_init(model, args.seed)
    elif args.init != "random":
        grown = load_weights(model, SHIPPED if args.init == "main" else args.init)
        if grown:
            print(f"--init {args.init}: {grown} identity ResBlocks added for --config "
                  f"{args.config}", flush=True)


def setup(args):
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    model = ttsr.TTSR(ttsr.parse_config(args.config), args.n_feats)
    initialise(model, args)
    model.to(args.device).train()
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    kind, autocast, scaled = precision_for(args)
    opt = make_optimizer(model, args.lr, args.lr_lte)
    if args.freeze_lte:  # after the optimiser: its groups match any checkpoint
        if args.objective == "full":
            raise SystemExit("--freeze-lte is for --objective rec (the full objective's "
                             "transferal loss trains the LTE)")
        for p in model.LTE.parameters():
            p.requires_grad_(False)
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        scaler = torch.amp.GradScaler("cuda", enabled=scaled)
    else:
        scaler = torch.cuda.amp.GradScaler(enabled=scaled)
    objective = None
    if args.objective == "full":
        objective = losses.FullObjective(model, 4 * args.lr_crop, args.weights, args.device)
    return model, opt, scaler, (kind, autocast), objective


def run(args):
    os.makedirs(args.run, exist_ok=True)
    log = Logger(os.path.join(args.run, "train.log"))
    model, opt, scaler, precision, objective = setup(args)
    ckpt = os.path.join(args.run, "last.pt")
    state = {"iter": 0, "train_s": 0.0, "best_psnr": -1.0, "samples": 0}
    if os.path.exists(ckpt):
        state = load_checkpoint(ckpt, model, opt, scaler, objective)
        state.setdefault("samples", 0)
        log(f"resumed from {ckpt} at iteration {state['iter']}")
    else:
        log(f"no {ckpt}: starting from --init {args.init} with a fresh optimiser")
    log("args " + json.dumps(vars(args)))
    trainset = TrainSet(os.path.join(args.pairs, "train"))
    valset = ValSet(os.path.join(args.pairs, "val"), args.val_items)
    log(f"{len(trainset)} training pairs, {len(valset.items)} validation pairs, "
        f"device {args.device}, precision {precision[0]}, threads {torch.get_num_threads()}")
    loop(args, Trainer(model, opt, scaler, precision[1], objective), state,
         trainset, valset, log)


class Trainer:
    """The model and what steps it: optimiser, loss scaler, autocast, and the
    full objective (None: reconstruction only)."""

    def __init__(self, model, opt, scaler, autocast, objective):
        self.model, self.opt, self.scaler = model, opt, scaler
        self.autocast, self.objective = autocast, objective

    def step(self, data):
        if self.objective is None:
            return train_step(self.model, self.opt, self.scaler, data, self.autocast)
        return self.objective.generator_step(data, self.opt, self.scaler, self.autocast)


def meta_for(args, state, scores):
    recipe = "TTSR-rec" if args.objective == "rec" else "full objective " + json.dumps(args.weights)
    return {"format": "refsr-ttsr", "config": args.config, "n_feats": str(args.n_feats),
            "iteration": str(state["iter"]), "train_seconds": "%.0f" % state["train_s"],
            "val_psnr_y": json.dumps(scores), "recipe": "tools/train/train.py " + recipe}


def evaluate_and_save(args, trainer, state, valset, log):
    scores = validate(trainer.model, valset, args.device)
    log("val it %d psnr_y ref %.3f unrelated %.3f self %.3f bicubic %.3f" % (
        state["iter"], scores["ref"], scores["unrelated"], scores["self"], scores["bicubic"]))
    meta = meta_for(args, state, scores)
    export_safetensors(trainer.model, os.path.join(args.run, "model.safetensors"), args.f16, meta)
    if scores["ref"] > state["best_psnr"]:
        state["best_psnr"] = scores["ref"]
        export_safetensors(trainer.model, os.path.join(args.run, "best.safetensors"), args.f16, meta)
    save_checkpoint(os.path.join(args.run, "last.pt"), trainer.model, trainer.opt,
                    trainer.scaler, trainer.objective, state)


class StopFlag:
    """SIGINT/SIGTERM end the run after the current step, with a checkpoint
    (a background run killed by a session's end loses nothing)."""

    def __init__(self):
        self.raised = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle)

    def handle(self, signum, _frame):
        self.raised = signal.Signals(signum).name


def log_progress(log, state, terms, seconds, samples):
    mean = {k: np.mean([t[k] for t in terms]) for k in terms[0]}
    text = " ".join("%s %.5f" % kv for kv in mean.items())
    log("it %d loss %s s/it %.3f img/s %.2f" % (state["iter"], text, seconds / len(terms),
                                                samples / seconds))


def loop(args, trainer, state, trainset, valset, log):
    rng = random.Random(args.seed * 1000003 + state["iter"])
    if state["iter"] == 0:  # the starting point, for the log
        evaluate_and_save(args, trainer, state, valset, log)
    stop = StopFlag()
    start = last_val = time.time()
    terms, t_log = [], time.time()
    while True:
        data = batch(trainset, rng, args)
        t0 = time.time()
        set_lr(trainer.opt, state["iter"], args.warmup, args.cosine_iters)
        terms.append(trainer.step(data))
        state["train_s"] += time.time() - t0
        state["iter"] += 1
        state["samples"] += args.batch
        if state["iter"] % args.log_every == 0:
            now = time.time()
            log_progress(log, state, terms, now - t_log, args.batch * len(terms))
            terms, t_log = [], now
        done = (stop.raised or time.time() - start > args.minutes * 60
                or (args.max_iters and state["iter"] >= args.max_iters))
        if done or time.time() - last_val > args.val_minutes * 60:
            evaluate_and_save(args, trainer, state, valset, log)
            last_val = time.time()
        if done:
            if args.val_items and not stop.raised:
                log("final validation on all pairs")
                full = ValSet(os.path.join(args.pairs, "val"))
                evaluate_and_save(args, trainer, state, full, log)
            log(f"stopped at iteration {state['iter']}" +
                (f" ({stop.raised})" if stop.raised else ""))
            return


if __name__ == "__main__":
    run(parse_args())
