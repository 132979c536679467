def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))  # the leading dims the operand did not have
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)  # the size-1 dims that expand stretched
