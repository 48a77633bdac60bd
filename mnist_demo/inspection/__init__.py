"""Looking inside a network: the architecture table, filters, feature maps, Grad-CAM, saliency,
and a convolution step by step.

Everything is computed from the model itself (its modules and one real forward pass), never
written by hand, so it holds for every registered model, the NumPy network and models trained in
a browser session alike. `tracing` runs the forward pass, `architecture` builds the table,
`activations` holds what a network computes on one input, `convolution` the step-through. The
names below are the teaching API, the same ones the Visualize tab calls; `mnist_demo.pictures`
draws them. No gradio here.
"""

from .activations import (
    Activations,
    FeatureMaps,
    FilterGrid,
    Heatmap,
    Vector,
    feature_maps,
    filters,
    grad_cam,
    saliency,
    where_it_looks,
)
from .architecture import LayerRow, layer_table, output_size_formula
from .convolution import KERNELS, PADDINGS, STRIDES, ConvSteps, conv_output_size, conv_steps, first_conv_kernels
from .tracing import Step, as_input, is_conv, is_linear, is_pool, layer_kind, trace

__all__ = [
    "Activations", "ConvSteps", "FeatureMaps", "FilterGrid", "Heatmap", "KERNELS", "LayerRow", "PADDINGS", "STRIDES",
    "Step", "Vector", "as_input", "conv_output_size", "conv_steps", "feature_maps", "filters", "first_conv_kernels",
    "grad_cam", "is_conv", "is_linear", "is_pool", "layer_kind", "layer_table", "output_size_formula", "saliency",
    "trace", "where_it_looks",
]
