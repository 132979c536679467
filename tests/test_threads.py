"""The numpy backend's thread pool (edugrad/backend/threads.py): split ops give numpy's answers."""

import numpy as np
import pytest

import edugrad
from edugrad.backend import threads


@pytest.fixture
def two_threads():
    before = edugrad.get_num_threads()
    edugrad.set_num_threads(2)
    yield
    edugrad.set_num_threads(before)


@pytest.mark.parametrize("a_shape, b_shape", [
    ((600, 64), (64, 700)),  # split by rows or columns, whichever is longer
    ((40, 300), (300, 900)),  # columns
    ((6, 200, 48), (6, 48, 300)),  # a batch, but rows are longer
    ((64, 128, 32), (64, 32, 128)),  # the batch
])
def test_split_matmul_matches_numpy(two_threads, monkeypatch, a_shape, b_shape):
    monkeypatch.setattr(threads, "MIN_MULTIPLY_ADDS", 1 << 20)  # split these
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape, np.float32), rng.standard_normal(b_shape, np.float32)
    out = threads.matmul(a, b)
    assert out.shape == np.matmul(a, b).shape and out.dtype == np.float32
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("ufunc, dtypes", [(np.add, ("float32", "float32")), (np.less, ("float32", "float32")),
                                           (np.divide, ("int64", "int64")), (np.exp2, ("float64",)),
                                           (np.bitwise_and, ("bool", "bool"))])
def test_split_elementwise_is_exact(two_threads, monkeypatch, ufunc, dtypes):
    monkeypatch.setattr(threads, "MIN_ELEMENTS_STREAMING", 1 << 10)  # split these too
    rng = np.random.default_rng(1)
    arrays = [(rng.standard_normal((700, 300)) * 10).astype(dtype) for dtype in dtypes]
    arrays[-1][arrays[-1] == 0] = 1  # no 0/0 warnings from the integer division
    arrays[-1] = arrays[-1].T.copy().T  # any layout in, C order out
    out = threads.elementwise(ufunc, *arrays)
    expected = ufunc(*arrays)
    assert out.dtype == expected.dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2), (0, 1, 2)])
def test_split_reduction_is_exact(two_threads, monkeypatch, axes):
    monkeypatch.setattr(threads, "MIN_ELEMENTS_STREAMING", 1 << 10)
    array = np.random.default_rng(2).standard_normal((40, 30, 20)).astype(np.float32)
    for ufunc in (np.add, np.maximum):
        np.testing.assert_array_equal(threads.reduce(ufunc, array, axes), ufunc.reduce(array, axis=axes, keepdims=True))


def test_an_error_in_a_chunk_reaches_the_caller(two_threads):
    def run(i):
        if i == 1:
            raise ValueError("chunk 1 failed")

    with pytest.raises(ValueError, match="chunk 1 failed"):
        threads.POOL.run(run, 4)


def test_every_chunk_runs_once(two_threads):
    seen = []
    threads.POOL.run(seen.append, 9)
    assert sorted(seen) == list(range(9))


def test_set_num_threads_refuses_nonsense():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
            edugrad.set_num_threads(bad)


def test_a_training_step_gives_the_same_loss_on_one_thread_and_two():
    def losses(n_threads):
        edugrad.set_num_threads(n_threads)
        edugrad.manual_seed(0)
        model = edugrad.nn.Sequential(edugrad.nn.Linear(300, 600), edugrad.nn.ReLU(), edugrad.nn.Linear(600, 10))
        optimizer = edugrad.optim.Adam(model.parameters())
        x, y = edugrad.randn(512, 300), edugrad.randint(0, 10, (512,))
        out = []
        for _ in range(3):
            loss = edugrad.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            out.append(loss.item())
        return out

    before = edugrad.get_num_threads()
    try:
        np.testing.assert_allclose(losses(1), losses(2), rtol=1e-5)
    finally:
        edugrad.set_num_threads(before)


@pytest.mark.parametrize("stride, dilation", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((2, 1), (1, 2))])
def test_split_fold_matches_one_thread(two_threads, monkeypatch, stride, dilation):
    """FOLD split along its leading axis (overlapping, tiled and dilated windows) adds what one
    thread adds, element for element: each chunk owns its rows of the output."""
    from edugrad.backend.numpy_backend import NumpyData
    rng = np.random.default_rng(2)
    x = NumpyData(rng.standard_normal((128, 8, 12, 12)).astype(np.float32))
    windows = x.window((2, 2), stride, dilation).permute((1, 0, 2, 3, 4, 5))  # (C, N, H', W', kh, kw): a view
    shape = (8, 128, 12, 12)
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1 << 10)  # split this
    split = windows.fold(shape, stride, dilation).to_host()
    edugrad.set_num_threads(1)
    np.testing.assert_array_equal(split, windows.fold(shape, stride, dilation).to_host())
