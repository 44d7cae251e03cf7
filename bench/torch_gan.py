"""The PyTorch peer of edgegan's training benchmark: the same MLP GAN (100-256-256-784 /
784-256-256-1, LeakyReLU 0.2, dropout 0.5 in both), the same MNIST IDX files, batch, loss and
Adam settings. Prints one JSON line. Usage: python3 bench/torch_gan.py MNIST_DIR STEPS"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn


def load_images(path):
    with open(path, "rb") as f:
        data = f.read()
    count = int.from_bytes(data[4:8], "big")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 784)
    return torch.from_numpy(pixels.astype(np.float32) / 127.5 - 1.0)


def mlp(sizes, dropout, out_activation):
    layers = []
    for i in range(len(sizes) - 2):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    if out_activation:
        layers.append(out_activation)
    return nn.Sequential(*layers)


def main():
    mnist_dir, steps = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(1)
    images = load_images(f"{mnist_dir}/train-images-idx3-ubyte")
    batch, latent = 64, 100
    g = mlp([latent, 256, 256, 784], 0.5, nn.Tanh())
    d = mlp([784, 256, 256, 1], 0.5, None)
    g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    softplus = nn.functional.softplus

    def step():
        real = images[torch.randint(0, images.shape[0], (batch,))]
        z = torch.randn(batch, latent)
        fake = g(z)
        d_loss = softplus(-d(real)).mean() + softplus(d(fake.detach())).mean()
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = softplus(-d(fake)).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "stepsPerS": steps / elapsed,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
