def my_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    T, d = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)                          # (B, H, T, T)
    future = Tensor(np.triu(np.full((T, T), -np.inf, dtype=np.float32), k=1))  # broadcasts over B, H
    return (scores + future).softmax(dim=-1) @ v                             # (B, H, T, d)
