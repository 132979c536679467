def count_functions(t: Tensor) -> dict[str, int]:
    counts: dict[str, int] = {}
    seen: set[int] = set()  # ids of Functions already counted: a shared parent is reached twice
    stack = [t]
    while stack:
        fn = stack.pop().grad_fn
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        name = type(fn).__name__
        counts[name] = counts.get(name, 0) + 1
        stack.extend(fn.parents)
    return counts
