def conv2d_by_hand(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1) -> np.ndarray:
    n, c, h, w = x.shape
    o, _, kh, kw = weight.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, H-kh+1, W-kw+1, kh, kw)
    windows = windows[:, :, ::stride, ::stride]                                    # (N, C, H', W', kh, kw)
    out_h, out_w = windows.shape[2], windows.shape[3]
    columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, out_h * out_w, c * kh * kw)  # (N, H'*W', C*kh*kw)
    out = columns @ weight.reshape(o, c * kh * kw).T + bias                        # (N, H'*W', O)
    return out.transpose(0, 2, 1).reshape(n, o, out_h, out_w)                      # (N, O, H', W')
