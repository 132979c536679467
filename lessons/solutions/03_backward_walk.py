def topological_order(root: Tensor) -> list[Tensor]:
    order, visited = [], set()
    stack = [(root, False)]  # (tensor, are its parents already in the order?)
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)  # after all of its parents
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in (node.grad_fn.parents if node.grad_fn is not None else ()):
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()  # now every tensor comes before its parents
    return order
