"""Every config the Makefile and docs name loads with the settings class it is for (a renamed field, a wrong type
or a bad range fails here, not an hour into ``make model``)."""

import json
from pathlib import Path

import pytest

from voltpeak.dataset.build import BuildConfig
from voltpeak.simulate.config import SimulationConfig
from voltpeak.train.loop import TrainConfig

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
KINDS = {"simulate-": SimulationConfig, "build-": BuildConfig}


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.json")), ids=lambda p: p.name)
def test_config_loads(path):
    cls = next((c for prefix, c in KINDS.items() if path.name.startswith(prefix)), TrainConfig)
    config = cls.load(path)
    assert config.to_dict().items() >= {k: v for k, v in json.loads(path.read_text()).items()
                                        if not isinstance(v, (dict, list))}.items()


def test_surface_config_switches_its_features_on():
    config = SimulationConfig.load(CONFIGS / "simulate-surface.json")
    assert config.ads_sharpness[1] > 1 and config.near_switch > 0 and config.onset > 0
    assert config.cdl_slope != (0.0, 0.0)
