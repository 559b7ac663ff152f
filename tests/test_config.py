"""Validation of alpha, resolution and rho."""

import math

import pytest

import mobilenet_core as mc
from mobilenet_core import ConfigError


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 0}, "alpha must be between 0.25 and 2.0, got 0"),
        ({"alpha": 2.01}, "alpha must be between"),
        ({"alpha": math.nan}, "alpha must be between"),
        ({"alpha": "wide"}, "alpha must be a number"),
        ({"resolution": 31}, "resolution must be between 32 and 448"),
        ({"resolution": 449}, "resolution must be between 32 and 448"),
        ({"resolution": 224.5}, "whole number"),
        ({"rho": 3.0}, "rho must be between"),
        ({"rho": 0.5, "resolution": 112}, "either resolution or rho"),
    ],
)
def test_out_of_range_values_raise_clear_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        mc.count("v2", **kwargs)
    with pytest.raises(ConfigError, match=message):
        mc.build("v2", **kwargs)


def test_unknown_model_lists_the_choices():
    with pytest.raises(ConfigError, match="choose one of: v1, v2, v3_large"):
        mc.count("resnet50")


@pytest.mark.parametrize(
    "model, rho, resolution",
    [
        ("v2", 1.0, 224),
        ("v2", 0.5, 128),
        ("v2", 0.43, 96),
        ("v2", 0.571, 128),
        ("v4_conv_large", 0.5, 192),
        ("v4_hybrid_medium", 2.0, 512),
        ("v1", 32 / 224, 32),
    ],
)
def test_rho_rounds_to_multiples_of_32(model, rho, resolution):
    assert mc.count(model, rho=rho).resolution == resolution


def test_default_resolution_is_the_base():
    assert {m: mc.count(m).resolution for m in mc.list_models()} == {
        "v1": 224,
        "v2": 224,
        "v3_large": 224,
        "v3_small": 224,
        "v4_conv_small": 224,
        "v4_conv_medium": 256,
        "v4_conv_large": 384,
        "v4_hybrid_medium": 256,
        "v4_hybrid_large": 384,
        "v5_base": 256,
        "v5_300m": 768,
    }


def test_build_returns_eval_mode_module_with_its_configuration():
    module = mc.build("v3_small", 0.5, 160)
    assert not module.training
    assert (module.model_name, module.alpha, module.resolution) == ("v3_small", 0.5, 160)
