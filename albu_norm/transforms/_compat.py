"""Every difference between albumentations 2.0.8 (MIT) and AlbumentationsX 2.5 (AGPL) that
albu_norm depends on, in one place (both install the same ``albumentations`` module).

Reading another target of the same call (a statistics mask, ``mask_key``): albumentations
2.0.8 hands a transform the call's data in ``get_params_dependent_on_data(params, data)``;
AlbumentationsX rejects a class that defines that method (a TypeError at class definition) and
hands the data to ``sample_parameters(params, data, targets, sampling)`` instead, which must
return a ``SampledParams``. :class:`ReadsCallData` defines the one that exists, and both call
:meth:`ReadsCallData.params_from_data`.
"""

from __future__ import annotations

from typing import Any

from albumentations.core.transforms_interface import BasicTransform

#: True under AlbumentationsX (2.5+), False under albumentations 2.0.x.
IS_ALBUMENTATIONSX = hasattr(BasicTransform, "sample_parameters")


class ReadsCallData:
    """Mixin: the transform's ``params_from_data(data)`` is merged into the parameters its
    ``apply*`` methods receive, under albumentations and AlbumentationsX alike."""

    def params_from_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Parameters computed from the call's data (every target); none by default."""
        return {}

    if IS_ALBUMENTATIONSX:

        def sample_parameters(
            self, params: dict[str, Any], data: dict[str, Any], targets: Any, sampling: Any
        ) -> Any:
            from albumentations.core.transform_params import SampledParams

            return SampledParams(params=self.params_from_data(data))

    else:

        def get_params_dependent_on_data(
            self, params: dict[str, Any], data: dict[str, Any]
        ) -> dict[str, Any]:
            return self.params_from_data(data)
