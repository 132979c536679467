def momentum_step(params, velocities, lr, momentum):
    new_params, new_velocities = [], []
    with edugrad.no_grad():  # the update is not part of any graph
        for p, v in zip(params, velocities):
            v = p.grad if v is None else momentum * v + p.grad
            new_params.append((p - lr * v).requires_grad_())
            new_velocities.append(v)
    return new_params, new_velocities
