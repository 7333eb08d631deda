"""Mutants of the reference: each one a realistic student bug, applied as text patches.

A mutant is a correct code base with one mistake, handed to the grader as a submission:
the reference package (copied into the submission folder, where it shadows the installed
one, with the reference's adapter mapping the kinds to it) or, for ``base = "dlfs"``, the
unmodified classes of "Deep Learning from Scratch" (tests/validity/honest/dlfs). The
validity suite asserts that every mutant fails a check of its kind on every plan seed
and that the message points at the bug.

``strict`` marks a mutant that is an equivalent variant of the course's formula (it passes,
with a note, under the default plan) and is caught only by a plan with ``strict = true``:
``dropout_scaled_in_training`` is inverted dropout (tests/validity/variants.py lists it
among the honest variants too).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    bug: str
    file: str  # relative to reference/nn/, or to the base's folder
    patches: tuple[tuple[str, str], ...]  # (old, new), each old must occur exactly once
    kind: str  # the layer or optimizer kind whose check should catch it
    base: str = "reference"
    strict: bool = False
    message: str = ""  # the message key the catching check must use, where one is promised

    @property
    def kinds(self) -> set[str]:
        """The kinds whose checks are run on it: those that use the mutated file."""
        shared = self.file in ("im2col.py", "common/util.py")
        return {self.kind} | ({"conv2d", "maxpool2d"} if shared else set())


def m(name: str, bug: str, file: str, kind: str, *patches: tuple[str, str],
      base: str = "reference", strict: bool = False, message: str = "") -> Mutant:
    return Mutant(name, bug, file, patches, kind, base, strict, message)


MUTANTS = [
    # Affine (eq. 1, 13–18)
    m("affine_transposed_weight_grad", "∂E/∂W computed as Xᵀ·∂E/∂Y (transposed)", "affine.py",
      "affine", ("return dy.T @ x, dy.sum(axis=0)", "return x.T @ dy, dy.sum(axis=0)")),
    m("affine_bias_grad_mean", "∂E/∂b averaged over the batch instead of summed (eq. 18)",
      "affine.py", "affine",
      ("return dy.T @ x, dy.sum(axis=0)", "return dy.T @ x, dy.mean(axis=0)")),
    m("affine_bias_grad_wrong_axis", "∂E/∂b summed over the wrong axis", "affine.py", "affine",
      ("return dy.T @ x, dy.sum(axis=0)", "return dy.T @ x, dy.sum(axis=1)")),
    m("affine_forgets_bias", "forward omits + b", "affine.py", "affine",
      ("return x @ w.T + b", "return x @ w.T")),
    # Sigmoid (eq. 2, 19)
    m("sigmoid_derivative_sign", "a'(t) written as (a − 1)·a", "sigmoid.py", "sigmoid",
      ("dout * (1.0 - self._y) * self._y", "dout * (self._y - 1.0) * self._y")),
    m("sigmoid_derivative_missing_factor", "a'(t) written as a", "sigmoid.py", "sigmoid",
      ("dout * (1.0 - self._y) * self._y", "dout * self._y")),
    m("sigmoid_wrong_scale", "a(t) = 1/(1 + exp(−2t))", "sigmoid.py", "sigmoid",
      ("0.5 * (1.0 + np.tanh(0.5 * t))", "0.5 * (1.0 + np.tanh(t))")),
    # Softmax + cross-entropy (eq. 5–8, 12)
    m("softmax_missing_1_over_B", "eq. 12 without the division by B", "softmax.py",
      "softmax_cross_entropy", ("return grad / batch", "return grad")),
    m("softmax_no_max_subtraction", "softmax without the max subtraction of eq. 5–6",
      "softmax.py", "softmax_cross_entropy",
      ("e = np.exp(a - a.max(axis=1, keepdims=True))", "e = np.exp(a)")),
    m("cross_entropy_sum_not_mean", "E_n summed over the batch instead of averaged (eq. 8)",
      "softmax.py", "softmax_cross_entropy",
      ("[rows, labels].mean())", "[rows, labels].sum())")),
    m("softmax_grad_sign", "eq. 12 with y + t instead of y − t", "softmax.py",
      "softmax_cross_entropy", ("self._labels] -= 1.0", "self._labels] += 1.0")),
    m("softmax_over_batch_axis", "softmax normalised over the batch axis", "softmax.py",
      "softmax_cross_entropy",
      ("return e / e.sum(axis=1, keepdims=True)", "return e / e.sum(axis=0, keepdims=True)")),
    # ReLU (eq. 24–25)
    m("relu_backward_passes_everything", "backward ignores the mask of eq. 25", "relu.py",
      "relu", ("return relu_backward(dout, self._active)", "return dout")),
    m("relu_leaky", "a(t) = max(t, 0.01 t)", "relu.py", "relu",
      ("return np.maximum(t, 0)", "return np.maximum(t, 0.01 * t)")),
    m("relu_mask_inverted", "gradient passed where t < 0", "relu.py", "relu",
      ("self._active = x > 0", "self._active = x < 0")),
    # Dropout (eq. 26–27, §5.2)
    m("dropout_scaled_in_training", "inverted dropout: scaled at training, not at test "
      "(an equivalent variant: caught under strict = true only)",
      "dropout.py", "dropout", ("self._factor = 1.0 - self.rate", "self._factor = 1.0"),
      ("self._factor = self.mask", "self._factor = self.mask / (1.0 - self.rate)"),
      strict=True, message="dropout.strict_inverted"),
    m("dropout_no_test_scaling", "no (1 − ρ) at test time", "dropout.py", "dropout",
      ("self._factor = 1.0 - self.rate", "self._factor = 1.0")),
    m("dropout_keep_share_confused", "drops 1 − ρ of the nodes instead of ρ", "dropout.py",
      "dropout", ("n_drop = round(rate * nodes)", "n_drop = round((1 - rate) * nodes)")),
    m("dropout_backward_ignores_mask", "backward passes every gradient (eq. 27 ignored)",
      "dropout.py", "dropout", ("return dout * self._factor", "return dout")),
    # BatchNorm (eq. 28–38)
    m("batchnorm_no_eps", "√σ² without ε (eq. 30)", "batchnorm.py", "batchnorm",
      ("inv_std = 1.0 / np.sqrt(var + eps)", "inv_std = 1.0 / np.sqrt(var)")),
    m("batchnorm_unbiased_variance", "σ_B² with 1/(B−1) instead of 1/B (eq. 29)",
      "batchnorm.py", "batchnorm",
      ("var = np.mean(np.square(centred), axis=axes)", "var = np.var(x, axis=axes, ddof=1)")),
    m("batchnorm_stats_updated_at_test", "running statistics updated at test time",
      "batchnorm.py", "batchnorm",
      ("            self._cache = None\n", "            self._cache = None\n"
       "            self.forward(x, True)\n")),
    m("batchnorm_momentum_swapped", "running ← (1−m)·running + m·batch", "batchnorm.py",
      "batchnorm", ("running *= self.decay", "running *= 1.0 - self.decay"),
      ("running += (1.0 - self.decay) * batch_value", "running += self.decay * batch_value")),
    m("batchnorm_test_uses_batch_statistics", "test mode still normalises with μ_B, σ_B²",
      "batchnorm.py", "batchnorm", ("        if not train:\n", "        if False:\n")),
    m("batchnorm_dgamma_missing_xhat", "∂E/∂γ without x̂ (eq. 36)", "batchnorm.py",
      "batchnorm", ("dgamma = (dy * x_hat).sum(axis=axes)", "dgamma = dy.sum(axis=axes)")),
    m("batchnorm_dx_missing_mean_term", "∂E/∂x without the ∂E/∂μ_B term (eq. 34–35)",
      "batchnorm.py", "batchnorm",
      ("dx = m * dy - _per_feature(dbeta, dy.ndim)", "dx = m * dy")),
    # Optimizers (eq. 39–55)
    m("sgd_ascends", "W ← W + η ∂E/∂W", "optim/sgd.py", "sgd",
      ("p -= self.lr * grads[name]", "p += self.lr * grads[name]")),
    m("momentum_sign", "ΔW ← αΔW + η ∂E/∂W (eq. 40)", "optim/momentum.py", "momentum",
      ("delta -= self.lr * grads[name]", "delta += self.lr * grads[name]")),
    m("momentum_velocity_not_decayed", "ΔW ← ΔW − η ∂E/∂W (α forgotten)", "optim/momentum.py",
      "momentum", ("delta *= self.alpha", "delta *= 1.0")),
    m("adagrad_no_accumulation", "h ← g∘g instead of h + g∘g (eq. 42)", "optim/adagrad.py",
      "adagrad", ("h += g * g", "h = g * g")),
    m("rmsprop_rho_swapped", "h ← (1−ρ)h + ρ g∘g (eq. 44)", "optim/rmsprop.py", "rmsprop",
      ("h *= self.rho\n", "h *= 1.0 - self.rho\n"),
      ("h += (1.0 - self.rho) * g * g", "h += self.rho * g * g")),
    m("adadelta_with_learning_rate", "AdaDelta multiplied by a learning rate (eq. 47)",
      "optim/adadelta.py", "adadelta",
      ("delta = -np.sqrt(s + self.eps)", "delta = -0.001 * np.sqrt(s + self.eps)")),
    m("adam_no_bias_correction", "Adam without m̂, v̂ (eq. 53–54)", "optim/adam.py", "adam",
      ("m_hat = m / (1.0 - self.beta1**t)", "m_hat = m"),
      ("v_hat = v / (1.0 - self.beta2**t)", "v_hat = v")),
    m("adam_step_not_counted", "t never advances past 1 (eq. 50)", "optim/adam.py", "adam",
      ("t = self.steps[name] = self.steps.get(name, 0) + 1", "t = self.steps[name] = 1")),
    # Convolution (eq. 56–62)
    m("conv_filter_flipped", "the filter flipped (convolution instead of eq. 56)", "conv.py",
      "conv2d", ("y = w.reshape(k, -1) @ col", "y = w[:, :, ::-1, ::-1].reshape(k, -1) @ col")),
    m("conv_bias_grad_mean", "∂E/∂b averaged instead of summed (eq. 62)", "conv.py", "conv2d",
      ("dy_mat.sum(axis=1), dy_mat", "dy_mat.mean(axis=1), dy_mat")),
    m("conv_backward_padding_misaligned", "∂E/∂X cropped without removing the padding",
      "conv.py", "conv2d",
      ("dx = dx_padded[:, :, padding : padding + height, padding : padding + width]",
       "dx = dx_padded[:, :, :height, :width]")),
    # Max pooling (eq. 63–64)
    m("pool_gradient_to_whole_window", "eq. 64 spread to every pixel of the window",
      "pool.py", "maxpool2d",
      ("np.multiply(x_at == y, dy, out=out)", "np.multiply(np.ones_like(y), dy, out=out)")),
    m("pool_stride_ignored", "windows taken with stride 1 whatever the stride", "im2col.py",
      "maxpool2d", ("[..., ::stride, ::stride, :, :]", "[..., ::1, ::1, :, :]")),
    # --- Shapes the old matrix never tried (issue 20) ---------------------------------
    m("conv_kernel_axes_swapped", "kh and kw swapped when unpacking W's shape", "conv.py",
      "conv2d", ("k, _, kh, kw = w.shape\n    col = im2col(x, kh, kw, stride, padding)",
                 "k, _, kw, kh = w.shape\n    col = im2col(x, kh, kw, stride, padding)")),
    m("dlfs_conv_kernel_axes_swapped", "FH and FW swapped in Convolution.forward",
      "layers.py", "conv2d", ("FN, C, FH, FW = self.W.shape\n        N, C, H, W = x.shape",
                              "FN, C, FW, FH = self.W.shape\n        N, C, H, W = x.shape"),
      base="dlfs"),
    m("sgd_rebinds_params", "params[k] = params[k] − η g: a new array, not an update in place",
      "optim/sgd.py", "sgd",
      ("p -= self.lr * grads[name]", "params[name] = p - self.lr * grads[name]"),
      message="optimizer.not_in_place"),
    m("dlfs_sgd_rebinds_params", "SGD.update rebinds the dict entries instead of updating",
      "optimizer.py", "sgd", ("params[key] -= self.lr * grads[key] \n",
                              "params[key] = params[key] - self.lr * grads[key]\n"),
      base="dlfs", message="optimizer.not_in_place"),
    m("pool_overlap_overwrites", "eq. 64 written with = where windows overlap (not +=)",
      "pool.py", "maxpool2d", ("dx_windows[s, t] += _route(windows[s, t], y, dy)",
                               "np.copyto(dx_windows[s, t], dy, where=windows[s, t] == y)"),
      message="maxpool2d.overlap_overwrite"),
    m("dlfs_col2im_overwrites", "col2im writes overlapping windows with = instead of +=",
      "common/util.py", "maxpool2d",
      ("img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]",
       "img[:, :, y:y_max:stride, x:x_max:stride] = col[:, :, y, x, :, :]"), base="dlfs"),
    m("batchnorm_4d_backward_count", "∂E/∂x of 4-D input with m = B instead of B·H·W",
      "batchnorm.py", "batchnorm", ("m = dy.size // gamma.size", "m = len(dy)")),
    m("dlfs_batchnorm_4d_not_reshaped", "4-D forward returns the flattened (N, C·H·W) output",
      "layers.py", "batchnorm",
      ("return out.reshape(*self.input_shape)", "return out"), base="dlfs"),
    m("dlfs_batchnorm_4d_backward_not_reshaped", "4-D backward returns a flattened ∂E/∂x",
      "layers.py", "batchnorm",
      ("        dx = dx.reshape(*self.input_shape)\n", ""), base="dlfs"),
    # --- State that used to fool the gradient checks (issue 15.1) -----------------------
    m("lazy_affine", "backward returns zeros; once called, forward returns a constant",
      "affine.py", "affine",
      ("        self._in_shape = x.shape\n",
       "        if getattr(self, 'lazy', False):\n"
       "            return np.zeros((x.shape[0], self.out_features))\n"
       "        self._in_shape = x.shape\n"),
      ('self.grads = {"W": dw, "b": db}',
       'self.grads = {"W": 0 * dw, "b": 0 * db}\n        self.lazy = True'),
      ('return affine_input_grad(dout, self.params["W"]).reshape(self._in_shape)',
       "return np.zeros(self._in_shape)"), message="api.gradient_all_zero"),
    m("sigmoid_caches_first_input", "forward keeps the output of its first input forever",
      "sigmoid.py", "sigmoid",
      ("        self._y = sigmoid(x)\n",
       "        if self._y is None:\n            self._y = sigmoid(x)\n"),
      message="api.state_changed_output"),
    m("relu_gradient_from_global", "backward returns the first gradient it ever computed, "
      "kept in a module-level global", "relu.py", "relu",
      ("        return relu_backward(dout, self._active)\n",
       "        if not _FIRST:\n            _FIRST.append(relu_backward(dout, self._active))\n"
       "        return _FIRST[0]\n\n\n_FIRST = []\n")),
    # --- Weight decay, L2: penalty λ/2·Σ‖W‖², gradient λW (issue 14, leftovers) --------
    m("l2_gradient_doubled", "∂R/∂W = 2λW: the derivative of λΣW², the ½ forgotten",
      "regularizers.py", "weight_decay", ("return self.lam * w", "return 2 * self.lam * w"),
      message="weight_decay.factor_two"),
    m("l2_gradient_halved", "∂R/∂W = λ/2·W: the ½ of the penalty kept in its derivative",
      "regularizers.py", "weight_decay", ("return self.lam * w", "return 0.5 * self.lam * w"),
      message="weight_decay.factor_half"),
    m("l2_gradient_sign", "∂R/∂W = −λW: the decay pushes the weights away from 0",
      "regularizers.py", "weight_decay", ("return self.lam * w", "return -self.lam * w"),
      message="weight_decay.sign"),
    m("l2_not_applied", "the decay's gradient is zero: weight decay not applied",
      "regularizers.py", "weight_decay", ("return self.lam * w", "return 0 * w"),
      message="weight_decay.not_applied"),
    m("l2_penalty_without_half", "R = λΣW² while the gradient is λW (derivative mismatch)",
      "regularizers.py", "weight_decay",
      ("return 0.5 * self.lam * float(np.vdot(w, w))", "return self.lam * float(np.vdot(w, w))"),
      message="weight_decay.penalty_mismatch"),
    m("torch_sgd_decay_subtracted", "torch-style SGD subtracts λ·p from the gradient",
      "optim.py", "weight_decay", ("grads[key] + self.weight_decay * p",
                                   "grads[key] - self.weight_decay * p"),
      base="torch_style", message="weight_decay.sign"),
    m("torch_sgd_decay_ignored", "torch-style SGD takes weight_decay and never uses it",
      "optim.py", "weight_decay", ("g = grads[key] + self.weight_decay * p", "g = grads[key]"),
      base="torch_style", message="weight_decay.not_applied"),
]
