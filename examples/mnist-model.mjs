// The demo's network, shared by the Node examples and the browser demo (no Node imports):
// conv(16) → BN → ReLU → pool → conv(32) → BN → ReLU → pool → linear(10), on 1×28×28 digits.
export function buildModel(nn, seed) {
  const L = nn.layers;
  return nn.sequential([
    L.conv2d(16, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
    L.conv2d(32, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
    L.flatten(),
    L.linear(10),
  ], { inputShape: [1, 28, 28], seed });
}
