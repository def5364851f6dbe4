"""Every difference between albumentations 2.0.8 (MIT) and AlbumentationsX 2.5 (AGPL) that
albu_norm depends on, in one place (both install the same ``albumentations`` module).

Reading another target of the same call (a statistics mask, ``mask_key``): albumentations
2.0.8 hands a transform the call's data in ``get_params_dependent_on_data(params, data)``;
AlbumentationsX rejects a class that defines that method (a TypeError at class definition) and
hands the data to ``sample_parameters(params, data, targets, sampling)`` instead, which must
return a ``SampledParams``. :class:`ReadsCallData` defines the one that exists, and both call
:meth:`ReadsCallData.params_from_data`.

What is read from the call's data is never part of the *recorded* parameters: ``ReplayCompose``
saves those (they must stay JSON-serializable, and a replay must take its statistics from the
mask of the replay call, not the recorded one). Both libraries hand every apply the call's data
in ``apply_with_params(params, **data)`` (a dict under 2.0.8, a ``SampledParams`` dataclass
under AlbumentationsX), on a sampled call and on a replay alike: the data's parameters are
added there, for that call only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from albumentations.core.transforms_interface import BasicTransform

#: True under AlbumentationsX (2.5+), False under albumentations 2.0.x.
IS_ALBUMENTATIONSX = hasattr(BasicTransform, "sample_parameters")


class ReadsCallData:
    """Mixin: the transform's ``params_from_data(data)`` is merged into the parameters its
    ``apply*`` methods receive, under albumentations and AlbumentationsX alike."""

    def params_from_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Parameters computed from the call's data (every target); none by default. Raises
        where the data lacks what the transform needs (checked when the parameters are sampled
        and again on a replay)."""
        return {}

    if IS_ALBUMENTATIONSX:

        def sample_parameters(
            self, params: dict[str, Any], data: dict[str, Any], targets: Any, sampling: Any
        ) -> Any:
            from albumentations.core.transform_params import SampledParams

            self.params_from_data(data)  # its errors before anything is applied; not recorded
            return SampledParams(params={})

        def apply_with_params(self, params: Any, *args: Any, **kwargs: Any) -> Any:
            # params: AlbumentationsX's SampledParams (a frozen dataclass)
            merged = {**params.params, **self.params_from_data(kwargs)}
            return super().apply_with_params(  # type: ignore[misc]
                dataclasses.replace(params, params=merged), *args, **kwargs
            )

    else:

        def get_params_dependent_on_data(
            self, params: dict[str, Any], data: dict[str, Any]
        ) -> dict[str, Any]:
            self.params_from_data(data)  # its errors before anything is applied; not recorded
            return {}

        def apply_with_params(self, params: Any, *args: Any, **kwargs: Any) -> Any:
            return super().apply_with_params(  # type: ignore[misc]
                {**params, **self.params_from_data(kwargs)}, *args, **kwargs
            )
