def my_window(self, kernel, stride, dilation):
    axes = tuple(range(self.array.ndim - len(kernel), self.array.ndim))        # the last len(kernel) axes
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))           # a dilated window's extent
    windows = np.lib.stride_tricks.sliding_window_view(self.array, spans, axis=axes)  # (..., positions, spans)
    keep_positions = tuple(slice(None, None, s) for s in stride)                # every s-th window
    keep_taps = tuple(slice(None, None, d) for d in dilation)                   # every d-th element of it
    return MyData(windows[(..., *keep_positions, *keep_taps)])
