"""Trains the bundled demo classifier (examples/spiral-classifier.json). Not needed to use or test
forwardpool: the JSON it wrote is committed. Kept so the weights can be reproduced.

Data: three interleaved spiral arms in the plane (class k = arm k), the same generator as
examples/spiral.ts. Model: 2 -> 32 tanh -> 32 relu -> 3 softmax, full-batch Adam on cross-entropy.
Run: python3 tools/train-spiral-classifier.py  (needs numpy)
"""
import json
import numpy as np

def spiral(n, rng):
    k = rng.integers(0, 3, n)
    t = rng.uniform(0, 1, n)
    angle = t * 4.0 + k * (2 * np.pi / 3)
    r = t * 1.0
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, 0.04, (n, 2))
    return x, k

rng = np.random.default_rng(22)
X, y = spiral(30000, rng)
sizes = [2, 32, 32, 3]
params = []
for a, b in zip(sizes[:-1], sizes[1:]):
    params.append([rng.normal(0, np.sqrt(2 / a), (a, b)), np.zeros(b)])
m = [[np.zeros_like(p) for p in layer] for layer in params]
v = [[np.zeros_like(p) for p in layer] for layer in params]
Y = np.eye(3)[y]
lr, b1, b2 = 0.01, 0.9, 0.999
for step in range(1, 4001):
    h1 = np.tanh(X @ params[0][0] + params[0][1])
    z2 = h1 @ params[1][0] + params[1][1]
    h2 = np.maximum(z2, 0)
    z3 = h2 @ params[2][0] + params[2][1]
    z3 -= z3.max(1, keepdims=True)
    p = np.exp(z3); p /= p.sum(1, keepdims=True)
    g3 = (p - Y) / len(X)
    grads = [None, None, None]
    grads[2] = [h2.T @ g3, g3.sum(0)]
    g2 = (g3 @ params[2][0].T) * (z2 > 0)
    grads[1] = [h1.T @ g2, g2.sum(0)]
    g1 = (g2 @ params[1][0].T) * (1 - h1 ** 2)
    grads[0] = [X.T @ g1, g1.sum(0)]
    for i in range(3):
        for j in range(2):
            m[i][j] = b1 * m[i][j] + (1 - b1) * grads[i][j]
            v[i][j] = b2 * v[i][j] + (1 - b2) * grads[i][j] ** 2
            params[i][j] -= lr * (m[i][j] / (1 - b1 ** step)) / (np.sqrt(v[i][j] / (1 - b2 ** step)) + 1e-8)
    if step % 1000 == 0:
        print(step, "loss", float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean()), "acc", float((p.argmax(1) == y).mean()))

Xt, yt = spiral(20000, np.random.default_rng(7))
h = np.tanh(Xt @ params[0][0] + params[0][1])
h = np.maximum(h @ params[1][0] + params[1][1], 0)
print("held-out accuracy", float(((h @ params[2][0] + params[2][1]).argmax(1) == yt).mean()))
acts = ["tanh", "relu", "softmax"]
spec = {
    "format": "forwardpool-spec",
    "about": "3-arm spiral classifier for the demo; trained by tools/train-spiral-classifier.py",
    "dtype": "float32",
    "inputNames": ["x", "y"],
    "labels": ["arm0", "arm1", "arm2"],
    "layers": [
        {"weights": [[float(np.float32(w)) for w in row] for row in W], "bias": [float(np.float32(c)) for c in b], "activation": a}
        for (W, b), a in zip(params, acts)
    ],
}
with open("examples/spiral-classifier.json", "w") as f:
    json.dump(spec, f, indent=1)
