"""Every public Tensor op against PyTorch, forward and backward: one `check` call per case."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import edugrad
import edugrad.nn.functional as F
from edugrad import Tensor
from edugrad.nn import init
from helpers import check, fixed

INDEX = np.array([[0, 2], [1, 1], [2, 0]])  # a (3, 2) integer index for gather
MASK = np.array([[True, False, True], [False, False, True]])


# ---------------------------------------------------------------- creation and dtypes

class _Lib:
    """Lets one lambda make a tensor in either library: lib.zeros(...) is edugrad.zeros or torch.zeros."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        return getattr(self.module, name)


def _same(ours, theirs):
    assert ours.shape == tuple(theirs.shape) and ours.dtype.value == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(2, 3),
    lambda lib: lib.zeros((2, 3)),
    lambda lib: lib.zeros(0, 3),
    lambda lib: lib.ones(4),
    lambda lib: lib.ones(2, 2, dtype=lib.int64),
    lambda lib: lib.full((2, 3), 7.5),
    lambda lib: lib.full((2,), 3),
    lambda lib: lib.full((2,), True),
    lambda lib: lib.arange(5),
    lambda lib: lib.arange(2, 11, 3),
    lambda lib: lib.arange(0.0, 1.0, 0.25),
    lambda lib: lib.eye(3),
    lambda lib: lib.eye(2, 4),
])
def test_creation(make):
    _same(make(_Lib(edugrad)), make(_Lib(torch)))


def test_empty_has_shape_and_dtype():
    x = edugrad.empty(2, 3)
    assert x.shape == (2, 3) and x.dtype == edugrad.float32


@pytest.mark.parametrize("like", ["zeros_like", "ones_like"])
def test_like(like):
    for source in (np.ones((2, 3), np.float32), np.ones(4, np.int64)):
        _same(getattr(edugrad, like)(Tensor(source)), getattr(torch, like)(torch.tensor(source)))
    _same(edugrad.full_like(edugrad.ones(2, 2), 3.0), torch.full_like(torch.ones(2, 2), 3.0))


@pytest.mark.parametrize("data, dtype", [
    ([1, 2, 3], edugrad.int64),
    ([1.0, 2.0], edugrad.float32),
    ([[True, False]], edugrad.bool),
    (3, edugrad.int64),
    (2.5, edugrad.float32),
    (True, edugrad.bool),
    (np.arange(3, dtype=np.int32), edugrad.int32),
    (np.arange(3, dtype=np.int64), edugrad.int64),
    (np.arange(3, dtype=np.uint8), edugrad.int64),
    (np.ones(3, np.float64), edugrad.float64),  # a numpy array keeps its float64, as torch.tensor does
    (np.ones(3, np.float32), edugrad.float32),
    (np.array([True]), edugrad.bool),
])
def test_dtype_from_data(data, dtype):
    t = Tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_explicit_dtype_and_casts():
    x = Tensor([1.7, -2.7], dtype=edugrad.float64)
    assert x.dtype == edugrad.float64 and (x * 2).dtype == edugrad.float64 and (2.0 - x).dtype == edugrad.float64
    assert x.float().dtype == edugrad.float32 and x.double().dtype == edugrad.float64
    assert x.int().tolist() == [1, -2] and x.long().dtype == edugrad.int64  # truncation toward zero
    assert x.bool().tolist() == [True, True] and (x > 0).dtype == edugrad.bool
    assert Tensor(np.float64(2.5)).item() == 2.5 and Tensor([[1, 2]]).tolist() == [[1, 2]]
    assert repr(x).startswith("tensor([") and "dtype=edugrad.float64" in repr(x) and "-2.7" in repr(x)
    assert "grad_fn=<MulBackward" in repr(Tensor([1.0], requires_grad=True) * 2)


@pytest.mark.parametrize("make", [
    lambda: edugrad.rand(3, 4), lambda: edugrad.randn(3, 4), lambda: init.uniform_(edugrad.empty(3, 4), -1, 2),
    lambda: init.normal_(edugrad.empty(3, 4), 1, 2), lambda: init.xavier_uniform_(edugrad.empty(3, 4)),
    lambda: init.kaiming_uniform_(edugrad.empty(3, 4)), lambda: edugrad.randint(0, 10, size=(3, 4)),
])
def test_manual_seed_reproducible(make):
    edugrad.manual_seed(123)
    a = make().numpy()
    b = make().numpy()
    edugrad.manual_seed(123)
    np.testing.assert_array_equal(make().numpy(), a)
    assert a.shape == (3, 4) and not np.array_equal(a, b)


@pytest.mark.parametrize("make, low, high, mean, std", [
    (lambda: edugrad.rand(20000), 0, 1, 0.5, math.sqrt(1 / 12)),
    (lambda: edugrad.randn(20000), -np.inf, np.inf, 0.0, 1.0),
    (lambda: init.uniform_(edugrad.empty(20000), -1, 3), -1, 3, 1.0, 4 / math.sqrt(12)),
    (lambda: init.normal_(edugrad.empty(20000), 2, 0.5), -np.inf, np.inf, 2.0, 0.5),
    # Linear's default, kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    (lambda: init.kaiming_uniform_(edugrad.empty(100, 200), a=math.sqrt(5)), -200 ** -0.5, 200 ** -0.5, 0.0,
     2 * 200 ** -0.5 / math.sqrt(12)),
    (lambda: init.kaiming_uniform_(edugrad.empty(200, 100)), -math.sqrt(6 / 100), math.sqrt(6 / 100), 0.0,
     math.sqrt(6 / 100) * 2 / math.sqrt(12)),
])
def test_random_distributions(make, low, high, mean, std):
    edugrad.manual_seed(0)
    x = make()
    values = x.numpy()
    assert x.dtype == edugrad.float32
    assert values.min() >= low and values.max() < high
    assert abs(values.mean() - mean) < 4 * std / math.sqrt(values.size) + 1e-6
    assert abs(values.std() - std) < 0.03 * std


def test_linear_default_init_range():
    values = init.kaiming_uniform_(edugrad.empty(10, 100), a=math.sqrt(5)).numpy()  # bound 1/sqrt(100)
    assert np.abs(values).max() <= 0.1 and np.abs(values).max() > 0.05


def test_requires_grad_on_creation():
    assert edugrad.zeros(2, requires_grad=True).requires_grad and edugrad.randn(2, requires_grad=True).requires_grad


# ---------------------------------------------------------------- arithmetic and broadcasting

def test_add(): check(lambda x, y: x + y, [(3, 4), (3, 4)])
def test_add_broadcast(): check(lambda x, y: x + y, [(3, 1, 4), (5, 1)])
def test_add_method_alpha(): check(lambda x, y: x.add(y, alpha=2), [(3, 4), (4,)])
def test_addcmul(): check(lambda x, y, z: x.addcmul(y, z, value=0.5), [(3, 4), (3, 4), (4,)])
def test_addcdiv(): check(lambda x, y, z: x.addcdiv(y, z, value=-2), [(3, 4), (3, 4), (4,)], low=0.5, high=2.0)
def test_addcmul_(): check(lambda x, y, z: x.clone().addcmul_(y, z, value=0.5), [(3, 4), (3, 4), (3, 4)])
def test_addcdiv_(): check(lambda x, y, z: x.clone().addcdiv_(y, z), [(3, 4), (3, 4), (3, 4)], low=0.5, high=2.0)
def test_lerp_(): check(lambda x, y: x.clone().lerp_(y, 0.1), [(3, 4), (3, 4)])
def test_sub_broadcast(): check(lambda x, y: x - y, [(2, 3, 1), (3, 4)])
def test_mul_broadcast(): check(lambda x, y: x * y, [(4, 1), (1, 5)])
def test_mul_scalar_tensor(): check(lambda x, y: x * y, [(3, 4), ()])
def test_div(): check(lambda x, y: x / y, [(3, 4), (4,)], low=0.5, high=2.0)
def test_div_negative(): check(lambda x, y: x / y, [(3, 4), (3, 4)], low=-2.0, high=-0.5)
def test_neg(): check(lambda x: -x, [(3, 4)])
def test_scalar_add_right(): check(lambda x: x + 2, [(3,)])
def test_scalar_add_left(): check(lambda x: 2.5 + x, [(3,)])
def test_scalar_sub_right(): check(lambda x: x - 1.5, [(3,)])
def test_scalar_sub_left(): check(lambda x: 1 - x, [(3,)])
def test_scalar_mul_left(): check(lambda x: 3 * x, [(3,)])
def test_scalar_div_right(): check(lambda x: x / 4, [(3,)])
def test_scalar_div_left(): check(lambda x: 2 / x, [(3,)], low=0.5, high=2.0)
def test_int_arithmetic():
    check(lambda a, b: (a + b, a - b, a * b, a * 2, -a), [np.array([1, -2, 3]), np.array([4, 5, -6])])
def test_int_true_division(): check(lambda a, b: (a / b, a / 2), [np.array([1, -7, 3]), np.array([4, 2, -6])])
def test_int_floor_division(): check(lambda a: (a // 2, a // -3), [np.array([7, -7, 3, 0])])
def test_int_plus_float(): check(lambda a: a + 1.5, [np.array([1, 2, 3])])
def test_bool_plus_int(): check(lambda m: m + 1, [MASK])
def test_int_plus_float_tensor(): check(lambda a, x: (a + x, x * a), [np.array([1, 2, 3]), (3,)])
def test_bool_times_float(): check(lambda m, x: m * x, [np.array([True, False, True]), (3,)])
def test_int32_plus_int64(): check(lambda a, b: (a + b, a * 2), [np.array([1, 2], np.int32), np.array([3, 4])])
def test_bool_logic():
    check(lambda m, n: (m & n, m | n, ~m), [np.array([True, False, True]), np.array([False, False, True])])
def test_float_floordiv():
    """torch has no floor_divide backward, so only the values are compared."""
    check(lambda x, y: x // y, [(3, 4), (3, 4)], low=0.5, high=3.0, grad=False)


# ---------------------------------------------------------------- powers

def test_pow_two(): check(lambda x: x ** 2, [(3, 4)])
def test_pow_odd(): check(lambda x: x ** 3, [(3, 4)])
def test_pow_fraction(): check(lambda x: x ** 2.5, [(3, 4)], low=0.5, high=2.0)
def test_pow_negative(): check(lambda x: x ** -1.5, [(3, 4)], low=0.5, high=2.0)
def test_pow_half(): check(lambda x: x ** 0.5, [(3, 4)], low=0.5, high=2.0)
def test_pow_minus_one(): check(lambda x: x ** -1, [(3, 4)], low=0.5, high=2.0)
def test_pow_method(): check(lambda x: x.pow(3.0), [(5,)])
def test_pow_tensor_exponent(): check(lambda x, y: x ** y, [(3, 4), (4,)], low=0.5, high=2.0)
def test_pow_negative_base_integer_tensor_exponent():
    """y is fixed: for a negative base, d/dy x^y = x^y ln(x) has no real value (torch gives nan)."""
    check(lambda x, y: x ** y, [(3,), fixed([2.0, 3.0, -1.0])], low=-2.0, high=-0.5)
def test_rpow(): check(lambda x: 2 ** x, [(3, 4)])
def test_rpow_float_base(): check(lambda x: 0.5 ** x, [(3, 4)])
def test_int_pow(): check(lambda a: (a ** 2, a ** 3, a ** 0, a ** 1), [np.array([1, -2, 3])])
def test_pow_zero(): check(lambda x: (x ** 0, x ** 0.0), [np.array([0.0, -1.0, 2.0])])
def test_pow_at_zero_base(): check(lambda x: (x ** 2.5, x ** 3, x ** 2), [np.array([0.0, 1.5])])


# ---------------------------------------------------------------- comparisons and selection

TIES = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], np.float32)
TIES_OTHER = np.array([[1.0, 2.0, -3.0], [0.5, 1.0, -1.0]], np.float32)


def test_comparisons(): check(lambda x, y: (x < y, x <= y, x > y, x >= y, x == y, x != y), [TIES, TIES_OTHER])
def test_comparisons_scalar(): check(lambda x: (x < 0.5, x <= 1, x > 0, x >= -1, x == 0.5, x != 1), [TIES])
def test_comparisons_scalar_left(): check(lambda x: (0.5 < x, 1 >= x), [TIES])
def test_comparison_broadcast(): check(lambda x, y: x < y, [(3, 1), (4,)])
def test_where():
    check(lambda c, x, y: edugrad.where(c, x, y), [MASK, (2, 3), (3,)], lambda c, x, y: torch.where(c, x, y))
def test_where_scalars():
    check(lambda c, x: edugrad.where(c, x, 0.0), [MASK, (2, 1)], lambda c, x: torch.where(c, x, 0.0))
def test_where_from_comparison():
    check(lambda x: edugrad.where(x > 0, x, -x * 2), [(3, 4)], lambda x: torch.where(x > 0, x, -x * 2))
def test_where_int_and_float():
    check(lambda c, a, x: edugrad.where(c, a, x), [MASK[0], np.array([1, 2, 3]), (3,)],
          lambda c, a, x: torch.where(c, a, x))
def test_maximum(): check(lambda x, y: x.maximum(y), [(3, 4), (4,)])
def test_maximum_ties(): check(lambda x, y: x.maximum(y), [TIES, TIES_OTHER])
def test_minimum(): check(lambda x, y: x.minimum(y), [(3, 4), (3, 1)])
def test_minimum_ties(): check(lambda x, y: x.minimum(y), [TIES, TIES_OTHER])
def test_maximum_scalar(): check(lambda x: x.maximum(0.5), [(3, 4)], lambda x: x.clamp(min=0.5))
def test_clamp(): check(lambda x: x.clamp(-0.5, 0.5), [(3, 4)])
def test_clamp_min(): check(lambda x: x.clamp(min=0.0), [(3, 4)])
def test_clip_max(): check(lambda x: x.clip(max=1.0), [(3, 4)])
def test_clamp_at_bounds(): check(lambda x: x.clamp(-1.0, 1.0), [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])])
def test_hardtanh_at_bounds():
    check(lambda x: F.hardtanh(x), [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])], lambda x: TF.hardtanh(x))
def test_relu6_at_bounds(): check(lambda x: F.relu6(x), [np.array([-1.0, 0.0, 3.0, 6.0, 7.0])], lambda x: TF.relu6(x))
def test_relu_at_zero(): check(lambda x: x.relu(), [np.array([-1.0, 0.0, 1.0])])


# ---------------------------------------------------------------- math and activations

def test_exp(): check(lambda x: x.exp(), [(3, 4)])
def test_log(): check(lambda x: x.log(), [(3, 4)], low=0.1, high=3.0)
def test_exp2(): check(lambda x: x.exp2(), [(3, 4)])
def test_log2(): check(lambda x: x.log2(), [(3, 4)], low=0.1, high=3.0)
def test_sqrt(): check(lambda x: x.sqrt(), [(3, 4)], low=0.1, high=3.0)
def test_rsqrt(): check(lambda x: x.rsqrt(), [(3, 4)], low=0.5, high=3.0)
def test_sin(): check(lambda x: x.sin(), [(3, 4)], low=-4, high=4)
def test_cos(): check(lambda x: x.cos(), [(3, 4)], low=-4, high=4)
def test_tan(): check(lambda x: x.tan(), [(3, 4)], low=-1.2, high=1.2)
def test_tanh(): check(lambda x: x.tanh(), [(3, 4)], low=-4, high=4)
def test_sigmoid(): check(lambda x: x.sigmoid(), [(3, 4)], low=-6, high=6)
def test_sigmoid_extreme(): check(lambda x: x.sigmoid(), [np.array([-100.0, -30.0, 0.0, 30.0, 100.0])])
def test_relu(): check(lambda x: x.relu(), [(3, 4)])
def test_activations_at_extremes():
    check(lambda x: (x.tanh(), x.sigmoid(), F.silu(x), F.gelu(x), F.mish(x), F.elu(x), F.logsigmoid(x), F.softplus(x)),
          [np.array([-100.0, -20.0, 0.0, 20.0, 100.0])],
          lambda x: (x.tanh(), x.sigmoid(), TF.silu(x), TF.gelu(x), TF.mish(x), TF.elu(x), TF.logsigmoid(x),
                     TF.softplus(x)))
def test_leaky_relu(): check(lambda x: F.leaky_relu(x, 0.1), [(3, 4)], lambda x: TF.leaky_relu(x, 0.1))
def test_leaky_relu_default(): check(lambda x: F.leaky_relu(x), [(3, 4)], lambda x: TF.leaky_relu(x))
def test_kinks_at_zero():
    """At x = 0 the gradient is the negative side's slope, as in PyTorch."""
    check(lambda x: (F.leaky_relu(x, 0.1), F.elu(x, 0.5)), [np.array([-1.0, 0.0, 1.0])],
          lambda x: (TF.leaky_relu(x, 0.1), TF.elu(x, 0.5)))
def test_elu(): check(lambda x: F.elu(x), [(3, 4)], lambda x: TF.elu(x))
def test_elu_alpha(): check(lambda x: F.elu(x, 0.5), [(3, 4)], lambda x: TF.elu(x, 0.5))
def test_gelu(): check(lambda x: F.gelu(x), [(3, 4)], lambda x: TF.gelu(x), low=-4, high=4)
def test_gelu_tanh():
    check(lambda x: F.gelu(x, approximate="tanh"), [(3, 4)], lambda x: TF.gelu(x, approximate="tanh"), low=-4, high=4)
def test_silu(): check(lambda x: F.silu(x), [(3, 4)], lambda x: TF.silu(x))
def test_swish(): check(lambda x: F.silu(x), [(3, 4)], lambda x: TF.silu(x))
def test_softplus(): check(lambda x: F.softplus(x), [(3, 4)], lambda x: TF.softplus(x), low=-5, high=5)
def test_softplus_beta(): check(lambda x: F.softplus(x, beta=2.0), [(3, 4)], lambda x: TF.softplus(x, beta=2.0))
def test_softplus_threshold():
    check(lambda x: F.softplus(x), [np.array([-50.0, 0.0, 19.0, 21.0, 50.0])], lambda x: TF.softplus(x))
def test_mish(): check(lambda x: F.mish(x), [(3, 4)], lambda x: TF.mish(x), low=-4, high=4)
def test_softsign(): check(lambda x: F.softsign(x), [(3, 4)], lambda x: TF.softsign(x))
def test_hardtanh(): check(lambda x: F.hardtanh(x), [(3, 4)], lambda x: TF.hardtanh(x))
def test_hardtanh_bounds(): check(lambda x: F.hardtanh(x, -0.5, 1.5), [(3, 4)], lambda x: TF.hardtanh(x, -0.5, 1.5))
def test_relu6(): check(lambda x: F.relu6(x), [(3, 4)], lambda x: TF.relu6(x), low=-3, high=9)
def test_logsigmoid(): check(lambda x: F.logsigmoid(x), [(3, 4)], lambda x: TF.logsigmoid(x), low=-30, high=30)
def test_hardsigmoid(): check(lambda x: F.hardsigmoid(x), [(3, 4)], lambda x: TF.hardsigmoid(x), low=-5, high=5)
def test_hardsigmoid_at_bounds():
    check(lambda x: F.hardsigmoid(x), [np.array([-4.0, -3.0, 0.0, 3.0, 4.0])], lambda x: TF.hardsigmoid(x))
def test_abs(): check(lambda x: x.abs(), [(3, 4)])
def test_sign(): check(lambda x: x.sign(), [np.array([-1.5, 0.0, 2.0])])
def test_square(): check(lambda x: x.square(), [(3, 4)])
def test_reciprocal(): check(lambda x: x.reciprocal(), [(3, 4)], low=0.5, high=2.0)
def test_floor(): check(lambda x: x.floor(), [np.array([-1.5, -1.0, -0.2, 0.0, 0.7, 2.0, 2.5])])
def test_ceil(): check(lambda x: x.ceil(), [np.array([-1.5, -1.0, -0.2, 0.0, 0.7, 2.0, 2.5])])
def test_round(): check(lambda x: x.round(), [np.array([-2.5, -1.5, -0.5, -0.2, 0.5, 0.7, 1.5, 2.5, 3.49])])
def test_trunc(): check(lambda x: x.trunc(), [np.array([-1.5, -1.0, -0.2, 0.0, 0.7, 2.0, 2.5])])
def test_int_unary(): check(lambda a: (a.abs(), a.sign(), a.floor(), a.round(), -a), [np.array([-3, 0, 2])])
def test_erf(): check(lambda x: x.erf(), [(3, 4)], lambda x: torch.erf(x), atol=2e-6)


# ---------------------------------------------------------------- matmul and linear

def test_matmul(): check(lambda x, y: x @ y, [(3, 4), (4, 5)])
def test_matmul_method(): check(lambda x, y: x.matmul(y), [(3, 4), (4, 5)])
def test_dot(): check(lambda x, y: x.dot(y), [(4,), (4,)])
def test_matmul_vector_vector(): check(lambda x, y: x @ y, [(4,), (4,)])
def test_matmul_vector_matrix(): check(lambda x, y: x @ y, [(4,), (4, 5)])
def test_matmul_matrix_vector(): check(lambda x, y: x @ y, [(3, 4), (4,)])
def test_matmul_vector_batch(): check(lambda x, y: x @ y, [(4,), (2, 4, 5)])
def test_matmul_batch_vector(): check(lambda x, y: x @ y, [(2, 3, 4), (4,)])
def test_matmul_batched(): check(lambda x, y: x @ y, [(2, 3, 4), (2, 4, 5)])
def test_matmul_batch_broadcast(): check(lambda x, y: x @ y, [(2, 1, 3, 4), (5, 4, 2)])
def test_matmul_batch_matrix(): check(lambda x, y: x @ y, [(2, 3, 4), (4, 5)])
def test_matmul_int(): check(lambda a, b: a @ b, [np.arange(6).reshape(2, 3), np.arange(3).reshape(3, 1)])
def test_linear(): check(lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (5, 4), (5,)], lambda x, w, b: TF.linear(x, w, b))
def test_linear_no_bias(): check(lambda x, w: F.linear(x, w), [(3, 4), (5, 4)], lambda x, w: TF.linear(x, w))


# ---------------------------------------------------------------- reductions

def test_sum_all(): check(lambda x: x.sum(), [(3, 4)])
def test_sum_dim(): check(lambda x: x.sum(1), [(3, 4, 5)])
def test_sum_negative_dim_keepdim(): check(lambda x: x.sum(-1, keepdim=True), [(3, 4, 5)])
def test_sum_tuple(): check(lambda x: x.sum((0, 2)), [(3, 4, 5)])
def test_sum_dim_keyword(): check(lambda x: x.sum(dim=1), [(3, 4)])
def test_sum_int_and_bool():
    check(lambda a, m: (a.sum(), a.sum(0), m.sum(), m.sum(1)), [np.arange(6).reshape(2, 3), MASK])
def test_sum_scalar(): check(lambda x: x.sum(), [()])
def test_sum_empty(): check(lambda x: (x.sum(), x.sum(0), x.sum(1)), [(0, 3)])
def test_sum_int32_gives_int64(): check(lambda a: (a.sum(), a.prod(0), a.cumsum(0)), [np.array([1, -2, 3], np.int32)])
def test_sum_dtype(): check(lambda x: x.sum(dtype=edugrad.float64), [(3,)], lambda x: x.sum(dtype=torch.float64))
def test_reductions_of_0d():
    check(lambda x: (x.sum(), x.sum(0), x.amax(), x.mean(), x.softmax(0), x.cumsum(0), x.argmax()), [()])
def test_int_max_min(): check(lambda a: (a.max(), a.max(0), a.min(1), a.argmax()), [np.array([[3, 1, 2], [0, 5, 0]])])
def test_mean(): check(lambda x: x.mean(), [(3, 4)])
def test_mean_dims(): check(lambda x: x.mean((0, -1), keepdim=True), [(3, 4, 5)])
def test_mean_dim_keyword(): check(lambda x: x.mean(dim=0), [(3, 4)])
def test_max_all(): check(lambda x: x.max(), [(3, 4)])
def test_max_ties(): check(lambda x: x.max(), [np.array([1.0, 3.0, 3.0, -1.0])], lambda x: x.amax())
def test_max_dim(): check(lambda x: x.max(1), [(3, 4)])
def test_max_dim_keepdim(): check(lambda x: x.max(dim=-1, keepdim=True), [(3, 4, 5)])
def test_max_dim_keyword(): check(lambda x: x.max(dim=0).values, [(3, 4)])
def test_max_values_indices(): check(lambda x: (x.max(0).values, x.max(0).indices), [(3, 4)])
def test_min_all(): check(lambda x: x.min(), [(3, 4)])
def test_min_dim(): check(lambda x: x.min(0), [(3, 4)])
def test_amax_tuple(): check(lambda x: x.amax((0, 2)), [(3, 4, 5)])
def test_amin_keepdim(): check(lambda x: x.amin(1, keepdim=True), [(3, 4, 5)])
def test_prod_all(): check(lambda x: x.prod(), [(3, 4)], low=0.5, high=1.5)
def test_prod_dim(): check(lambda x: x.prod(1), [(3, 5)])
def test_prod_keepdim(): check(lambda x: x.prod(0, keepdim=True), [(4, 3)])
def test_prod_with_zero(): check(lambda x: x.prod(1), [np.array([[1.0, 0.0, 2.0], [3.0, -1.0, 2.0]])])
def test_prod_int(): check(lambda a: a.prod(0), [np.array([[1, 2], [3, -4], [5, 6]])])
def test_std(): check(lambda x: x.std(), [(3, 4)])
def test_std_dim(): check(lambda x: x.std(1, keepdim=True), [(3, 4)])
def test_std_correction(): check(lambda x: x.std(0, correction=0), [(3, 4)])
def test_std_tuple(): check(lambda x: x.std((0, 2)), [(3, 4, 2)])
def test_var(): check(lambda x: x.var(), [(3, 4)])
def test_var_dims(): check(lambda x: x.var((0, 2)), [(3, 4, 5)])
def test_var_unbiased_false(): check(lambda x: x.var(1, unbiased=False), [(3, 4)])
def test_var_correction_two(): check(lambda x: x.var(-1, keepdim=True, correction=2), [(3, 4)])
def test_cumsum(): check(lambda x: x.cumsum(1), [(3, 4)])
def test_cumsum_first_dim(): check(lambda x: x.cumsum(0), [(3, 4, 2)])
def test_cumsum_negative_dim(): check(lambda x: x.cumsum(-1), [(5,)])
def test_cumsum_int(): check(lambda a: a.cumsum(0), [np.array([1, 2, 3, -4])])
def test_argmax(): check(lambda x: (x.argmax(), x.argmax(1), x.argmax(0, keepdim=True)), [(3, 4)])
def test_argmin(): check(lambda x: (x.argmin(), x.argmin(-1), x.argmin(1, keepdim=True)), [(3, 4)])
def test_argmax_ties_first(): check(lambda x: (x.argmax(), x.argmin()), [np.array([1.0, 3.0, 3.0, -1.0, -1.0])])
def test_logsumexp(): check(lambda x: x.logsumexp(1), [(3, 4)])
def test_logsumexp_tuple_keepdim(): check(lambda x: x.logsumexp((0, 2), keepdim=True), [(3, 4, 5)])
def test_logsumexp_large(): check(lambda x: x.logsumexp(0), [np.array([1000.0, 1000.0, -1000.0])])
def test_logsumexp_all_neg_inf():
    check(lambda x: (x - Tensor([np.inf, np.inf])).logsumexp(0), [(2,)],
          lambda x: (x - torch.tensor([np.inf, np.inf])).logsumexp(0))
def test_softmax(): check(lambda x: x.softmax(1), [(3, 4)], low=-5, high=5)
def test_softmax_first_dim(): check(lambda x: x.softmax(0), [(3, 4, 2)])
def test_softmax_implicit_dim():
    """F.softmax without dim takes PyTorch's legacy choice: dim 1 of a 2-D input, dim 0 of a 3-D one."""
    check(lambda x: F.softmax(x), [(3, 4)], lambda x: TF.softmax(x, 1))
    check(lambda x: F.log_softmax(x), [(2, 3, 4)], lambda x: TF.log_softmax(x, 0))
def test_softmax_large(): check(lambda x: x.softmax(0), [np.array([1000.0, 999.0, -1000.0])])
def test_softmax_neg_inf():
    check(lambda x: (x + Tensor([[0.0, -np.inf, 0.0]])).softmax(1), [(2, 3)],
          lambda x: (x + torch.tensor([[0.0, -np.inf, 0.0]])).softmax(1))
def test_log_softmax(): check(lambda x: x.log_softmax(-1), [(3, 4)], low=-5, high=5)
def test_log_softmax_dim0(): check(lambda x: x.log_softmax(0), [(3, 4)])
def test_all_any(): check(lambda m: (m.all(), m.any(), m.all(1), m.any(0)), [MASK])


# ---------------------------------------------------------------- movement

def test_reshape(): check(lambda x: x.reshape(4, 3), [(3, 4)])
def test_reshape_minus_one(): check(lambda x: x.reshape(-1, 6), [(3, 4)])
def test_reshape_tuple(): check(lambda x: x.reshape((2, 2, 3)), [(3, 4)])
def test_reshape_scalar(): check(lambda x: x.reshape(()), [(1, 1)])
def test_view(): check(lambda x: x.view(12), [(3, 4)])
def test_permute(): check(lambda x: x.permute(2, 0, 1), [(2, 3, 4)])
def test_permute_tuple_negative(): check(lambda x: x.permute((-1, 0, 1)), [(2, 3, 4)])
def test_transpose(): check(lambda x: x.transpose(0, 2), [(2, 3, 4)])
def test_transpose_negative(): check(lambda x: x.transpose(-1, -2), [(2, 3, 4)])
def test_T(): check(lambda x: x.T, [(3, 4)])
def test_mT(): check(lambda x: x.mT, [(2, 3, 4)])
def test_flatten(): check(lambda x: x.flatten(), [(2, 3, 4)])
def test_flatten_range(): check(lambda x: x.flatten(1), [(2, 3, 4)])
def test_flatten_middle(): check(lambda x: x.flatten(0, 1), [(2, 3, 4)])
def test_unflatten(): check(lambda x: x.unflatten(1, (2, 3)), [(4, 6)])
def test_unflatten_minus_one(): check(lambda x: x.unflatten(-1, (2, -1)), [(3, 6)])
def test_flatten_0d(): check(lambda x: x.flatten(), [()])
def test_squeeze(): check(lambda x: x.squeeze(), [(1, 3, 1, 4)])
def test_squeeze_dim(): check(lambda x: x.squeeze(2), [(1, 3, 1, 4)])
def test_squeeze_non_one(): check(lambda x: x.squeeze(1), [(1, 3, 1, 4)])
def test_squeeze_tuple(): check(lambda x: x.squeeze((0, 2)), [(1, 3, 1, 1)])
def test_unsqueeze(): check(lambda x: x.unsqueeze(0), [(3, 4)])
def test_unsqueeze_negative(): check(lambda x: x.unsqueeze(-1), [(3, 4)])
def test_expand(): check(lambda x: x.expand(2, 3, 4), [(3, 1)])
def test_expand_minus_one(): check(lambda x: x.expand(-1, 5), [(3, 1)])
def test_expand_as(): check(lambda x, y: x.expand_as(y), [(1, 4), (3, 4)])
def test_repeat(): check(lambda x: x.repeat(2, 3), [(2, 3)])
def test_repeat_new_dims(): check(lambda x: x.repeat(2, 1, 3), [(2, 3)])
def test_repeat_more_dims(): check(lambda x: x.repeat(2, 1, 1, 2), [(3, 1, 2)])
def test_flip(): check(lambda x: x.flip(0), [(3, 4)])
def test_flip_dims(): check(lambda x: x.flip((0, -1)), [(2, 3, 4)])
def test_pad(): check(lambda x: F.pad(x, (1, 2)), [(3, 4)], lambda x: TF.pad(x, (1, 2)))
def test_pad_two_dims(): check(lambda x: F.pad(x, (1, 1, 2, 0)), [(2, 3, 4)], lambda x: TF.pad(x, (1, 1, 2, 0)))
def test_pad_value():
    check(lambda x: F.pad(x, (1, 2, 0, 1), value=-3.0), [(3, 4)], lambda x: TF.pad(x, (1, 2, 0, 1), value=-3.0))
def test_pad_negative(): check(lambda x: F.pad(x, (-1, 2, 1, -2)), [(4, 5)], lambda x: TF.pad(x, (-1, 2, 1, -2)))
def test_cat(): check(lambda x, y: edugrad.cat([x, y]), [(2, 3), (4, 3)], lambda x, y: torch.cat([x, y]))
def test_cat_dim():
    check(lambda x, y, z: edugrad.cat([x, y, z], dim=1), [(2, 1), (2, 3), (2, 2)],
          lambda x, y, z: torch.cat([x, y, z], dim=1))
def test_cat_negative_dim():
    check(lambda x, y: edugrad.cat((x, y), -1), [(2, 3, 1), (2, 3, 2)], lambda x, y: torch.cat((x, y), -1))
def test_cat_keywords():
    check(lambda x, y: edugrad.cat(tensors=[x, y], dim=0), [(1, 3), (2, 3)], lambda x, y: torch.cat(tensors=[x, y], dim=0))
def test_stack(): check(lambda x, y: edugrad.stack([x, y]), [(2, 3), (2, 3)], lambda x, y: torch.stack([x, y]))
def test_stack_last():
    check(lambda x, y, z: edugrad.stack([x, y, z], dim=-1), [(2, 3), (2, 3), (2, 3)],
          lambda x, y, z: torch.stack([x, y, z], dim=-1))
def test_split(): check(lambda x: x.split(2), [(5, 3)])
def test_split_dim(): check(lambda x: x.split(2, dim=1), [(3, 5)])
def test_split_sections(): check(lambda x: x.split([1, 3, 1], 1), [(2, 5)])
def test_chunk(): check(lambda x: x.chunk(3), [(7, 2)])
def test_chunk_dim(): check(lambda x: x.chunk(2, dim=-1), [(2, 4)])
def test_tril(): check(lambda x: x.tril(), [(4, 5)])
def test_tril_diagonal(): check(lambda x: x.tril(-1), [(2, 4, 4)])
def test_triu(): check(lambda x: x.triu(), [(4, 3)])
def test_triu_diagonal(): check(lambda x: x.triu(1), [(4, 4)])
def test_gather(): check(lambda x, i: x.gather(1, i), [(3, 4), INDEX])
def test_gather_dim0(): check(lambda x, i: x.gather(0, i), [(3, 4), INDEX.T.copy()])
def test_gather_repeated(): check(lambda x, i: x.gather(-1, i), [(2, 3), np.array([[0, 0, 0, 2], [1, 1, 2, 2]])])
def test_one_hot(): check(lambda a: F.one_hot(a, 4), [np.array([0, 3, 1])], lambda a: TF.one_hot(a, 4))
def test_clone_contiguous(): check(lambda x: (x.clone(), x.contiguous()), [(3, 4)])
def test_int_movement():
    check(lambda a: (F.pad(a, (1, 1), value=7), a.flip(0), a[::2], a.reshape(2, 2).tril(), a.repeat(2)), [np.arange(4)],
          lambda a: (TF.pad(a, (1, 1), value=7), a.flip(0), a[::2], a.reshape(2, 2).tril(), a.repeat(2)))
def test_int_cat_stack():
    check(lambda a, b, x: (edugrad.cat([a, b]), edugrad.cat([a, x]), edugrad.stack([a, x])),
          [np.array([1, 2]), np.array([3, 4]), (2,)],
          lambda a, b, x: (torch.cat([a, b]), torch.cat([a, x]), torch.stack([a, x])))


# ---------------------------------------------------------------- indexing

def test_index_int(): check(lambda x: x[1], [(3, 4)])
def test_index_negative_int(): check(lambda x: x[-1, -2], [(3, 4)])
def test_index_slice(): check(lambda x: x[1:3], [(5, 4)])
def test_index_slice_step(): check(lambda x: x[::2, 1::3], [(5, 7)])
def test_index_slice_negative_bounds(): check(lambda x: x[-3:-1, :-2], [(5, 4)])
def test_index_slice_out_of_range(): check(lambda x: x[2:100, 5:1], [(5, 4)])
def test_index_none(): check(lambda x: x[None, :, None], [(3, 4)])
def test_index_ellipsis(): check(lambda x: x[..., 1], [(2, 3, 4)])
def test_index_ellipsis_middle(): check(lambda x: x[0, ..., 1:], [(2, 3, 4)])
def test_index_mixed(): check(lambda x: x[1, None, ::2, -1], [(2, 5, 4)])
def test_index_scalar_result(): check(lambda x: x[1, 2], [(3, 4)])
def test_index_tensor(): check(lambda x, i: x[i], [(5, 3), np.array([0, 4, -1, 0])])
def test_index_tensor_2d(): check(lambda x, i: x[i], [(5, 3), np.array([[0, 1], [4, 4]])])
def test_index_list(): check(lambda x: x[[0, 2, 2]], [(4, 3)])
def test_index_tensor_second_dim(): check(lambda x, i: x[:, i], [(3, 5), np.array([4, 0, 1])])
def test_index_two_tensors(): check(lambda x, i, j: x[i, j], [(4, 5), np.array([0, 3, 3]), np.array([1, 4, 0])])
def test_index_two_tensors_broadcast():
    check(lambda x, i, j: x[i, j], [(4, 5, 2), np.array([[0], [3]]), np.array([1, 4, 0])])
def test_index_tensors_separated(): check(lambda x, i, j: x[i, :, j], [(4, 3, 5), np.array([0, 3]), np.array([1, 4])])
def test_index_tensor_and_int(): check(lambda x, i: x[1, :, i], [(2, 3, 4), np.array([0, 3])])
def test_index_tensor_then_slice(): check(lambda x, i: x[i, 1:], [(4, 3), np.array([2, 0])])
def test_index_int_tensor_repeats(): check(lambda x, i: x[i], [(3,), np.array([1, 1, 1, 2])])
def test_index_bool_mask(): check(lambda x, m: x[m], [(2, 3), MASK])
def test_index_bool_mask_rows(): check(lambda x, m: x[m], [(3, 2), np.array([True, False, True])])
def test_index_comparison_mask(): check(lambda x: x[x > 0], [(3, 4)])
def test_index_int_tensor_data(): check(lambda a, i: a[i], [np.array([10, 20, 30]), np.array([2, 0])])
def test_index_numpy_int(): check(lambda x: x[np.int64(1), np.int32(-1)], [(3, 2)])
def test_index_0d_tensor(): check(lambda x, i: x[i], [(3, 2), np.array(2)])
def test_index_empty_tensor(): check(lambda x, i: x[i], [(3, 2), np.zeros(0, np.int64)])


# ---------------------------------------------------------------- neural-network functional

def test_conv2d(): check(lambda x, w: F.conv2d(x, w), [(2, 3, 6, 5), (4, 3, 3, 3)], lambda x, w: TF.conv2d(x, w))
def test_conv2d_bias():
    check(lambda x, w, b: F.conv2d(x, w, b), [(2, 3, 5, 5), (4, 3, 2, 3), (4,)], lambda x, w, b: TF.conv2d(x, w, b))
def test_conv2d_stride():
    check(lambda x, w: F.conv2d(x, w, stride=2), [(2, 2, 7, 6), (3, 2, 3, 3)], lambda x, w: TF.conv2d(x, w, stride=2))
def test_conv2d_stride_pair():
    check(lambda x, w: F.conv2d(x, w, stride=(1, 3)), [(1, 2, 7, 8), (3, 2, 3, 2)],
          lambda x, w: TF.conv2d(x, w, stride=(1, 3)))
def test_conv2d_padding():
    check(lambda x, w: F.conv2d(x, w, padding=1), [(2, 2, 5, 5), (3, 2, 3, 3)], lambda x, w: TF.conv2d(x, w, padding=1))
def test_conv2d_padding_pair():
    check(lambda x, w: F.conv2d(x, w, padding=(2, 0)), [(1, 2, 4, 5), (3, 2, 3, 3)],
          lambda x, w: TF.conv2d(x, w, padding=(2, 0)))
def test_conv2d_dilation():
    check(lambda x, w: F.conv2d(x, w, dilation=2), [(2, 2, 7, 7), (3, 2, 3, 3)], lambda x, w: TF.conv2d(x, w, dilation=2))
def test_conv2d_groups():
    check(lambda x, w: F.conv2d(x, w, groups=2), [(2, 4, 5, 5), (6, 2, 3, 3)], lambda x, w: TF.conv2d(x, w, groups=2))
def test_conv2d_depthwise():
    check(lambda x, w: F.conv2d(x, w, groups=3), [(2, 3, 5, 5), (3, 1, 3, 3)], lambda x, w: TF.conv2d(x, w, groups=3))
def test_conv2d_everything():
    check(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=2, dilation=2, groups=2), [(2, 4, 9, 8), (6, 2, 3, 2), (6,)],
          lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=2, dilation=2, groups=2))
def test_conv1d(): check(lambda x, w: F.conv1d(x, w), [(2, 3, 10), (4, 3, 3)], lambda x, w: TF.conv1d(x, w))
def test_conv1d_options():
    check(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), [(2, 3, 11), (4, 3, 3), (4,)],
          lambda x, w, b: TF.conv1d(x, w, b, stride=2, padding=1, dilation=2))
def test_conv_transpose2d():
    check(lambda x, w: F.conv_transpose2d(x, w), [(2, 3, 4, 4), (3, 2, 3, 3)], lambda x, w: TF.conv_transpose2d(x, w))
def test_conv_transpose2d_stride():
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2), [(2, 3, 3, 4), (3, 2, 3, 3), (2,)],
          lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2))
def test_conv_transpose2d_padding():
    check(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), [(1, 2, 4, 3), (2, 3, 3, 3)],
          lambda x, w: TF.conv_transpose2d(x, w, stride=2, padding=1))
def test_conv_transpose2d_output_padding():
    check(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1), [(1, 2, 3, 3), (2, 3, 3, 3)],
          lambda x, w: TF.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1))
def test_conv_transpose2d_groups():
    check(lambda x, w: F.conv_transpose2d(x, w, stride=(2, 1), groups=2), [(2, 4, 3, 3), (4, 3, 2, 3)],
          lambda x, w: TF.conv_transpose2d(x, w, stride=(2, 1), groups=2))
def test_conv_transpose2d_dilation():
    check(lambda x, w: F.conv_transpose2d(x, w, stride=2, dilation=2), [(1, 2, 3, 3), (2, 3, 3, 3)],
          lambda x, w: TF.conv_transpose2d(x, w, stride=2, dilation=2))
def test_max_pool2d(): check(lambda x: F.max_pool2d(x, 2), [(2, 3, 6, 6)], lambda x: TF.max_pool2d(x, 2))
def test_max_pool2d_uneven(): check(lambda x: F.max_pool2d(x, 2), [(1, 2, 5, 7)], lambda x: TF.max_pool2d(x, 2))
def test_max_pool2d_stride():
    check(lambda x: F.max_pool2d(x, 3, stride=1), [(2, 2, 5, 6)], lambda x: TF.max_pool2d(x, 3, stride=1))
def test_max_pool2d_padding():
    check(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [(2, 2, 6, 5)],
          lambda x: TF.max_pool2d(x, 3, stride=2, padding=1))
def test_max_pool2d_rect():
    check(lambda x: F.max_pool2d(x, (2, 3), stride=(1, 2)), [(1, 2, 5, 7)],
          lambda x: TF.max_pool2d(x, (2, 3), stride=(1, 2)))
def test_max_pool2d_3d_input(): check(lambda x: F.max_pool2d(x, 2), [(3, 4, 4)], lambda x: TF.max_pool2d(x, 2))
def test_max_pool2d_dilation():
    check(lambda x: F.max_pool2d(x, 2, stride=1, dilation=2), [(1, 2, 6, 6)],
          lambda x: TF.max_pool2d(x, 2, stride=1, dilation=2))
# Windows that hold equal values: PyTorch gives each window's gradient to its first maximum (in
# row-major window order), the last nan if it holds any, never shares it among ties.
POOLINGS = [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2, padding=1, dilation=2),
            dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1))]
def tied(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float32)  # most windows hold ties
@pytest.mark.parametrize("pooling", POOLINGS, ids=str)
def test_max_pool2d_ties_go_to_the_first_maximum(pooling):
    check(lambda x: F.max_pool2d(x, **pooling), [tied((2, 3, 7, 8))], lambda x: TF.max_pool2d(x, **pooling))
    check(lambda x: F.max_pool2d(x, **pooling), [np.full((1, 2, 6, 6), 1.5, np.float32)], lambda x: TF.max_pool2d(x, **pooling))
    # after a ReLU, about half of the values are 0: many windows are all zeros
    check(lambda x: F.max_pool2d(F.relu(x), **pooling), [(2, 3, 7, 8)], lambda x: TF.max_pool2d(TF.relu(x), **pooling))
@pytest.mark.parametrize("pooling", POOLINGS, ids=str)
def test_max_pool2d_nan_and_inf(pooling):
    x = tied((2, 2, 6, 7), seed=1)
    x[np.random.default_rng(2).random(x.shape) < 0.15] = np.nan  # some windows hold two nans
    x[0, 0] = -np.inf  # windows of -inf only, and with padding ones at the edges
    x[1, 1, :, :3] = np.inf
    check(lambda x: F.max_pool2d(x, **pooling), [x], lambda x: TF.max_pool2d(x, **pooling))
    # without a gradient to find, forward takes another path (rows, then columns): the same values
    check(lambda x: F.max_pool2d(x, **pooling), [x], lambda x: TF.max_pool2d(x, **pooling), grad=False)
def test_max_pool2d_float64_and_no_grad():
    x = edugrad.tensor(tied((1, 2, 4, 4)), dtype=edugrad.float64, requires_grad=True)
    with edugrad.no_grad():
        assert F.max_pool2d(x, 2).dtype == edugrad.float64 and not F.max_pool2d(x, 2).requires_grad
    F.max_pool2d(x, 2).sum().backward()
    expected = TF.max_pool2d(torch.tensor(tied((1, 2, 4, 4)), dtype=torch.float64, requires_grad=True), 2)
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), expected.detach().numpy())
    assert x.grad.sum().item() == 8 and x.grad.dtype == edugrad.float64
def test_avg_pool2d(): check(lambda x: F.avg_pool2d(x, 2), [(2, 3, 6, 6)], lambda x: TF.avg_pool2d(x, 2))
def test_avg_pool2d_stride():
    check(lambda x: F.avg_pool2d(x, 3, stride=2), [(2, 2, 7, 6)], lambda x: TF.avg_pool2d(x, 3, stride=2))
def test_avg_pool2d_padding():
    check(lambda x: F.avg_pool2d(x, 3, stride=1, padding=1), [(2, 2, 5, 5)],
          lambda x: TF.avg_pool2d(x, 3, stride=1, padding=1))
def test_layernorm(): check(lambda x: F.layer_norm(x, (5,)), [(3, 5)], lambda x: TF.layer_norm(x, (5,)))
def test_layernorm_affine():
    check(lambda x, w, b: F.layer_norm(x, 4, w, b), [(2, 3, 4), (4,), (4,)], lambda x, w, b: TF.layer_norm(x, (4,), w, b))
def test_layernorm_two_dims():
    check(lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3), [(2, 3, 4), (3, 4), (3, 4)],
          lambda x, w, b: TF.layer_norm(x, (3, 4), w, b, eps=1e-3))
def test_layer_norm_alias(): check(lambda x: F.layer_norm(x, 5), [(3, 5)], lambda x: TF.layer_norm(x, (5,)))


BN_MEAN, BN_VAR = np.array([0.1, -0.2, 0.3], np.float32), np.array([0.5, 1.0, 2.0], np.float32)


def test_batchnorm_eval():
    check(lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False),
          [(2, 3, 4, 4), (3,), (3,), fixed(BN_MEAN), fixed(BN_VAR)],
          lambda x, w, b, m, v: TF.batch_norm(x, m, v, w, b, training=False))
def test_batchnorm_batch_stats():
    check(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
          [(4, 3, 2, 2), (3,), (3,)], lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), atol=1e-4)
def test_batchnorm_no_affine_2d():
    check(lambda x, m, v: F.batch_norm(x, m, v, training=False), [(5, 3), fixed(BN_MEAN), fixed(BN_VAR)],
          lambda x, m, v: TF.batch_norm(x, m, v, training=False))
def test_batchnorm_3d():
    check(lambda x, m, v: F.batch_norm(x, m, v, eps=0.0), [(2, 3, 5), fixed(BN_MEAN), fixed(BN_VAR)],
          lambda x, m, v: TF.batch_norm(x, m, v, eps=0.0))


def test_dropout_off_is_identity():
    x = edugrad.randn(100)
    assert F.dropout(x, 0.5, training=False) is x
    drop = edugrad.nn.Dropout(0.5)
    drop.eval()
    assert drop(x) is x


def test_dropout_training():
    edugrad.manual_seed(0)
    x = edugrad.ones(100, 100, requires_grad=True)
    y = F.dropout(x, 0.3, training=True)
    values = y.numpy()
    assert abs((values == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(values[values != 0], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # the gradient passes through the same mask


def test_dropout_training_flag():
    """training=True is F.dropout's default, as in PyTorch; a Dropout module passes its own .training."""
    x = edugrad.ones(1000)
    assert (F.dropout(x, 0.5).numpy() == 0).any()
    assert (F.dropout(x, 0.5, training=False).numpy() == 1).all()
    drop = edugrad.nn.Dropout(0.5)
    assert drop.training and (drop(x).numpy() == 0).any()
    drop.eval()
    assert (drop(x).numpy() == 1).all()
    assert (F.dropout(x, 1.0, training=True).numpy() == 0).all() and F.dropout(x, 0.0, training=True) is x


def test_dropout_reproducible():
    x = edugrad.ones(50)
    edugrad.manual_seed(7)
    a = F.dropout(x, 0.5, training=True).numpy()
    edugrad.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=True).numpy(), a)


CAUSAL_BOOL = np.tril(np.ones((4, 5), bool))


def test_sdpa():
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), [(2, 4, 8), (2, 5, 8), (2, 5, 3)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v))
def test_sdpa_heads():
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3), [(2, 2, 4, 8), (2, 2, 5, 8), (2, 2, 5, 3)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=0.3))
def test_sdpa_bool_mask():
    check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
          [(2, 4, 8), (2, 5, 8), (2, 5, 3), CAUSAL_BOOL],
          lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m))
def test_sdpa_float_mask():
    check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
          [(2, 4, 8), (2, 5, 8), (2, 5, 3), (4, 5)],
          lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m))
def test_sdpa_causal():
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), [(2, 5, 8), (2, 5, 8), (2, 5, 3)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True))
def test_sdpa_fully_masked_row():
    """A query that sees no key gets zeros (PyTorch's safe softmax), not nan, and no nan gradient."""
    check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
          [(1, 2, 4), (1, 3, 4), (1, 3, 2), np.array([[True, True, False], [False, False, False]])],
          lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m))


TARGETS = np.array([1, 0, 3, 3, 2])
PROBS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]], np.float32)


def test_cross_entropy(): check(lambda x, t: F.cross_entropy(x, t), [(5, 4), TARGETS], lambda x, t: TF.cross_entropy(x, t))
def test_cross_entropy_sum():
    check(lambda x, t: F.cross_entropy(x, t, reduction="sum"), [(5, 4), TARGETS],
          lambda x, t: TF.cross_entropy(x, t, reduction="sum"))
def test_cross_entropy_none():
    check(lambda x, t: F.cross_entropy(x, t, reduction="none"), [(5, 4), TARGETS],
          lambda x, t: TF.cross_entropy(x, t, reduction="none"))
def test_cross_entropy_label_smoothing():
    check(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), [(5, 4), TARGETS],
          lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1))
def test_cross_entropy_probabilities():
    check(lambda x, p: F.cross_entropy(x, p), [(3, 4), fixed(PROBS)], lambda x, p: TF.cross_entropy(x, p))
def test_cross_entropy_probabilities_smoothing():
    check(lambda x, p: F.cross_entropy(x, p, label_smoothing=0.2, reduction="none"), [(3, 4), fixed(PROBS)],
          lambda x, p: TF.cross_entropy(x, p, label_smoothing=0.2, reduction="none"))
def test_cross_entropy_ignore_index():
    check(lambda x, t: F.cross_entropy(x, t), [(5, 4), np.array([1, -100, 3, -100, 2])],
          lambda x, t: TF.cross_entropy(x, t))
def test_cross_entropy_ignore_index_custom():
    check(lambda x, t: F.cross_entropy(x, t, ignore_index=3, label_smoothing=0.1), [(5, 4), TARGETS],
          lambda x, t: TF.cross_entropy(x, t, ignore_index=3, label_smoothing=0.1))
def test_cross_entropy_spatial():
    check(lambda x, t: F.cross_entropy(x, t), [(2, 4, 3), np.array([[0, 1, 3], [2, 2, 0]])],
          lambda x, t: TF.cross_entropy(x, t))
def test_cross_entropy_unbatched():
    check(lambda x, t: F.cross_entropy(x, t), [(4,), np.array(2)], lambda x, t: TF.cross_entropy(x, t))
def test_cross_entropy_large_logits():
    check(lambda x, t: F.cross_entropy(x, t), [np.array([[1000.0, -1000.0, 0.0], [0.0, 50.0, -50.0]]), np.array([1, 0])],
          lambda x, t: TF.cross_entropy(x, t))
def test_sparse_categorical_crossentropy():
    check(lambda x, t: F.cross_entropy(x, t), [(5, 4), TARGETS], lambda x, t: TF.cross_entropy(x, t))
def test_nll():
    check(lambda x, t: F.nll_loss(x.log_softmax(1), t), [(5, 4), TARGETS], lambda x, t: TF.nll_loss(x.log_softmax(1), t))
def test_nll_reductions():
    check(lambda x, t: (F.nll_loss(x, t, reduction="sum"), F.nll_loss(x, t, reduction="none"), F.nll_loss(x, t, ignore_index=3)),
          [(5, 4), TARGETS],
          lambda x, t: (TF.nll_loss(x, t, reduction="sum"), TF.nll_loss(x, t, reduction="none"),
                        TF.nll_loss(x, t, ignore_index=3)))
def test_binary_crossentropy():
    check(lambda x, t: F.binary_cross_entropy(x.sigmoid(), t),
          [(3, 4), fixed(np.random.default_rng(0).uniform(size=(3, 4)))],
          lambda x, t: TF.binary_cross_entropy(x.sigmoid(), t))
def test_binary_crossentropy_reductions():
    check(lambda x, t: (F.binary_cross_entropy(x, t, reduction="sum"), F.binary_cross_entropy(x, t, reduction="none")),
          [(5,), fixed(np.array([0.0, 1.0, 1.0, 0.5, 0.0]))],
          lambda x, t: (TF.binary_cross_entropy(x, t, reduction="sum"),
                        TF.binary_cross_entropy(x, t, reduction="none")),
          low=0.05, high=0.95)
def test_binary_crossentropy_saturated():
    check(lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
          [fixed(np.array([0.0, 1.0])), fixed(np.array([1.0, 0.0]))],
          lambda x, t: TF.binary_cross_entropy(x, t, reduction="none"), grad=False)
def test_binary_crossentropy_logits():
    check(lambda x, t: F.binary_cross_entropy_with_logits(x, t), [(3, 4), fixed(np.random.default_rng(0).uniform(size=(3, 4)))],
          lambda x, t: TF.binary_cross_entropy_with_logits(x, t), low=-5, high=5)
def test_binary_crossentropy_logits_extreme():
    check(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
          [np.array([-200.0, -30.0, 0.0, 30.0, 200.0]), fixed(np.array([1.0, 0.0, 0.5, 1.0, 0.0]))],
          lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction="none"))
def test_binary_crossentropy_logits_pos_weight():
    check(lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, pos_weight=w),
          [(3, 4), fixed(np.ones((3, 4)) * 0.7), fixed(np.array([1.0, 2.0, 0.5, 3.0]))],
          lambda x, t, w: TF.binary_cross_entropy_with_logits(x, t, pos_weight=w))
def test_mse(): check(lambda x, y: F.mse_loss(x, y), [(3, 4), (3, 4)], lambda x, y: TF.mse_loss(x, y))
def test_mse_reductions():
    check(lambda x, y: (F.mse_loss(x, y, reduction="sum"), F.mse_loss(x, y, reduction="none")), [(3, 4), (3, 4)],
          lambda x, y: (TF.mse_loss(x, y, reduction="sum"), TF.mse_loss(x, y, reduction="none")))


def test_sequential():
    w = edugrad.randn(4, 3)
    x = edugrad.randn(2, 3)
    model = edugrad.nn.Sequential(edugrad.nn.Linear(3, 4, bias=False), edugrad.nn.ReLU())
    with edugrad.no_grad():
        model[0].weight.copy_(w)
    np.testing.assert_allclose(model(x).detach().numpy(), F.linear(x, w).relu().numpy())


# ---------------------------------------------------------------- autograd semantics

def test_requires_grad_propagation():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    assert (a * b).requires_grad and not (b * 2).requires_grad
    assert (a * b).grad_fn is not None and a.is_leaf and not (a * b).is_leaf
    assert not a.detach().requires_grad and a.detach().grad_fn is None


def test_gradient_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    x.grad.zero_()
    assert not x.grad.numpy().any()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])


def test_shared_subexpression():
    """A tensor reached by several paths gets the sum of their gradients before passing it on."""
    check(lambda x: x / x.sum(1, keepdim=True), [(3, 4)], low=0.5, high=2.0)
    check(lambda x: (y := x * 2) * y.exp() + y.sum(), [(3,)])


def test_no_grad_context_and_decorator():
    x = Tensor([1.0], requires_grad=True)
    with edugrad.no_grad():
        assert not (x * 2).requires_grad and not edugrad.is_grad_enabled()
        with edugrad.enable_grad():
            assert (x * 2).requires_grad
    assert edugrad.is_grad_enabled() and (x * 2).requires_grad

    @edugrad.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and f.__name__ == "f" and (x * 2).requires_grad


def test_detach_stops_gradient():
    x = Tensor([2.0], requires_grad=True)
    (x * x.detach()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_backward_with_gradient():
    check(lambda x: x * x, [(2, 3)])  # check() calls backward(gradient) on a non-scalar
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(Tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 40.0])


def test_backward_non_scalar_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 2).backward(Tensor([1.0]))


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_second_backward_raises_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time.*retain_graph"):
        y.backward()


def test_long_chain_backward():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [float(np.float32(1.0001)) ** 100_000], rtol=1e-3)


def test_requires_grad_on_int_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        Tensor([True]).requires_grad_()


def test_grad_of_int_inputs_is_none():
    x, i = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([2, 0])
    x[i].sum().backward()
    assert i.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 1.0])


def test_float64_grad():
    x = Tensor([1.0, 2.0], dtype=edugrad.float64, requires_grad=True)
    (x.exp() * 2.0).sum().backward()
    assert x.grad.dtype == edugrad.float64
