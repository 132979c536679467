"""Character-level name models in the manner of Andrej Karpathy's makemore lectures: a bigram model
from counts (torch.zeros((27, 27), dtype=torch.int32), N[ix1, ix2] += 1, sampling with
torch.multinomial and a seeded torch.Generator), the same bigram model as a one-layer network
(F.one_hot, manual gradient descent on W.data), and the MLP of Bengio et al. 2003 (an embedding
table C indexed as C[X], minibatches from torch.randint, p.data += -lr * p.grad).
"""

import torch
import torch.nn.functional as F

WORDS = """emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila
ella avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey nora
lily eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel violet aurora savannah
audrey brooklyn bella claire skylar lucy paisley everly anna caroline nova genesis emilia kennedy samantha
maya willow kinsley naomi aaliyah elena sarah ariana allison gabriella alice madelyn cora ruby eva serenity
autumn adeline hailey gianna valentina isla eliana quinn nevaeh ivy sadie piper lydia alexa josephine emery
julia delilah arianna vivian kaylee sophie brielle madeline liam noah william james oliver benjamin elijah
lucas mason logan alexander ethan jacob michael daniel henry jackson sebastian aiden matthew samuel david
joseph carter owen wyatt john jack luke jayden dylan grayson levi isaac gabriel julian mateo anthony jaxon
lincoln joshua christopher andrew theodore caleb ryan asher nathan thomas leo isaiah charles josiah hudson
christian hunter connor eli ezra aaron landon adrian jonathan nolan jeremiah easton elias colton cameron
carson robert angel maverick nicholas dominic jaxson greyson adam ian austin santiago jordan cooper brayden
roman evan ezekiel xavier jose jace jameson leonardo bryson axel everett parker kayden miles sawyer jason""".split()


def build_dataset(words, stoi, block_size):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


def main(initial_state=None, path=None):
    words = WORDS
    chars = sorted(list(set("".join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    vocab = len(stoi)
    results = {}

    # Bigram counts.
    N = torch.zeros((vocab, vocab), dtype=torch.int32)
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            ix1 = stoi[ch1]
            ix2 = stoi[ch2]
            N[ix1, ix2] += 1
    results["counts"] = N.numpy().copy()
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)

    g = torch.Generator().manual_seed(2147483647)
    samples = []
    for i in range(5):
        out = []
        ix = 0
        while True:
            p = P[ix]
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            out.append(itos[ix])
            if ix == 0:
                break
        samples.append("".join(out))
    results["bigram_samples"] = samples

    log_likelihood = 0.0
    n = 0
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            prob = P[stoi[ch1], stoi[ch2]]
            logprob = torch.log(prob)
            log_likelihood += logprob
            n += 1
    nll = -log_likelihood
    results["bigram_nll"] = (nll / n).item()
    print(f"{nll/n=}")

    # The bigram model as a single linear layer trained by gradient descent.
    xs, ys = [], []
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    xs = torch.tensor(xs)
    ys = torch.tensor(ys)
    num = xs.nelement()
    g = torch.Generator().manual_seed(2147483647)
    W = torch.randn((vocab, vocab), generator=g, requires_grad=True)
    losses = []
    for k in range(60):
        xenc = F.one_hot(xs, num_classes=vocab).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        losses.append(loss.item())
        W.grad = None
        loss.backward()
        W.data += -50 * W.grad
    results["neural_bigram_losses"] = losses
    print(losses[0], losses[-1])

    # The MLP: a 2-d embedding per character, three characters of context.
    block_size = 3
    X, Y = build_dataset(words, stoi, block_size)
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab, 10), generator=g)
    W1 = torch.randn((30, 64), generator=g) * 0.2
    b1 = torch.randn(64, generator=g) * 0.01
    W2 = torch.randn((64, vocab), generator=g) * 0.01
    b2 = torch.randn(vocab, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    print(sum(p.nelement() for p in parameters))
    for p in parameters:
        p.requires_grad = True
    mlp_losses = []
    for i in range(300):
        ix = torch.randint(0, X.shape[0], (32,), generator=g)
        emb = C[X[ix]]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 200 else 0.05
        for p in parameters:
            p.data += -lr * p.grad
        mlp_losses.append(loss.item())
    with torch.no_grad():
        emb = C[X]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        results["mlp_full_loss"] = F.cross_entropy(logits, Y).item()
    results["mlp_losses"] = mlp_losses
    print(results["mlp_full_loss"])

    names = []
    for _ in range(5):
        out = []
        context = [0] * block_size
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append("".join(itos[i] for i in out))
    results["mlp_samples"] = names
    print(names)
    return results


if __name__ == "__main__":
    main()
