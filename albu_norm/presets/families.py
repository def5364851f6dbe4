"""The built-in normalization families: constants read at their defining source, each with
the repository and file (and symbol) it comes from.

Values are on the 0-1 scale of ``max_pixel_value``: a constant published in 0-255 units, m, is
stored as m / 255 (so uint8 images get exactly ``(x - m) / s``); raw digital numbers of
satellite data, m, as m / 10000 with ``max_pixel_value=10000``. Where two sources disagree,
both are kept as separate families, and ``note`` says why. The list grows by appending: names
are public (saved configs keep them).
"""

from __future__ import annotations

from albu_norm.presets.record import Preset

__all__ = ["FAMILIES"]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_INCEPTION_MEAN = (0.5, 0.5, 0.5)
_INCEPTION_STD = (0.5, 0.5, 0.5)
_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_HALF = (0.5, 0.5, 0.5)
_ZERO3 = (0.0, 0.0, 0.0)
_ONE3 = (1.0, 1.0, 1.0)
_TIMM = "huggingface/pytorch-image-models timm/data/constants.py"
# Constants published in 0-255 units are stored on the 0-1 scale like every preset: on uint8
# the result is exactly ``img - mean_255`` with std ``1 / 255`` (up to float64 rounding).
_PER_255 = (1 / 255, 1 / 255, 1 / 255)


def _over(divisor: float, *values: float) -> tuple[float, ...]:
    """Each published value divided by ``divisor`` (e.g. 255 or 10000)."""
    return tuple(v / divisor for v in values)


# Sentinel-2 band orders, as each source spells and orders them.
_S2_L1C_SSL4EO = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
_S2_L2A_SSL4EO = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")
_S2_EUROSAT_TORCHGEO = (
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B09",
    "B10",
    "B11",
    "B12",
    "B8A",
)
_S2_TOA_TORCHGEO = (
    "B1",
    "B2",
    "B3",
    "B4",
    "B5",
    "B6",
    "B7",
    "B8",
    "B8a",
    "B9",
    "B10",
    "B11",
    "B12",
)
_HLS_PRITHVI = ("BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2")


FAMILIES: tuple[Preset, ...] = (
    # ------------------------------------------------------------------ the first fourteen
    Preset(
        "imagenet", _IMAGENET_MEAN, _IMAGENET_STD, source=f"{_TIMM} (IMAGENET_DEFAULT_MEAN/STD)"
    ),
    Preset(
        "inception",
        _INCEPTION_MEAN,
        _INCEPTION_STD,
        source=f"{_TIMM} (IMAGENET_INCEPTION_MEAN/STD)",
    ),
    Preset(
        "clip",
        _CLIP_MEAN,
        _CLIP_STD,
        source="openai/CLIP clip/clip.py (_transform); mlfoundations/open_clip "
        "src/open_clip/constants.py (OPENAI_DATASET_MEAN/STD)",
    ),
    Preset(
        "yolo",
        (0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0),
        source="ultralytics/ultralytics ultralytics/engine/predictor.py "
        "(BasePredictor.preprocess: im /= 255)",
    ),
    Preset(
        "dpn",
        (124 / 255, 117 / 255, 104 / 255),
        tuple([1 / (0.0167 * 255)] * 3),
        source=f"{_TIMM} (IMAGENET_DPN_MEAN/STD)",
    ),
    Preset(
        "vit",
        _INCEPTION_MEAN,
        _INCEPTION_STD,
        source="huggingface/pytorch-image-models timm/models/vision_transformer.py (Google ViT/"
        "AugReg configs: IMAGENET_INCEPTION_MEAN/STD); google/vit-base-patch16-224 "
        "preprocessor_config.json",
    ),
    Preset(
        "siglip",
        _INCEPTION_MEAN,
        _INCEPTION_STD,
        source="huggingface/transformers src/transformers/models/siglip/image_processing_siglip.py "
        "(IMAGENET_STANDARD_MEAN/STD)",
    ),
    Preset(
        "dinov2",
        _IMAGENET_MEAN,
        _IMAGENET_STD,
        source="facebookresearch/dinov2 dinov2/data/transforms.py (IMAGENET_DEFAULT_MEAN/STD)",
    ),
    Preset(
        "convnext",
        _IMAGENET_MEAN,
        _IMAGENET_STD,
        source="huggingface/pytorch-image-models timm/models/convnext.py (_cfg: "
        "IMAGENET_DEFAULT_MEAN/STD)",
    ),
    Preset(
        "eva",
        _CLIP_MEAN,
        _CLIP_STD,
        source="huggingface/pytorch-image-models timm/models/eva.py (_cfg: OPENAI_CLIP_MEAN/STD)",
    ),
    Preset(
        "caffe",
        _over(255, 103.939, 116.779, 123.68),
        _PER_255,
        channel_order="BGR",
        source="keras-team/keras keras/src/applications/imagenet_utils.py "
        "(_preprocess_numpy_input, mode='caffe')",
    ),
    Preset(
        "detectron2",
        _over(255, 103.530, 116.280, 123.675),
        _PER_255,
        channel_order="BGR",
        source="facebookresearch/detectron2 detectron2/config/defaults.py "
        "(_C.MODEL.PIXEL_MEAN, _C.MODEL.PIXEL_STD)",
    ),
    Preset(
        "mmdet_caffe",
        _over(255, 103.530, 116.280, 123.675),
        _PER_255,
        channel_order="BGR",
        source="open-mmlab/mmdetection configs/rpn/rpn_r50_caffe_fpn_1x_coco.py "
        "(mean, std, to_rgb=False)",
    ),
    Preset(
        "ssd_vgg",
        (0.48235, 0.45882, 0.40784),
        _PER_255,
        source="pytorch/vision torchvision/models/detection/ssd.py (ssd300_vgg16: image_mean, "
        "image_std)",
    ),
    # ------------------------------------------------------------------ EfficientNet (TF)
    Preset(
        name="efficientnet_lite",
        mean=_over(255, 127.0, 127.0, 127.0),
        std=_over(255, 128.0, 128.0, 128.0),
        source="tensorflow/tpu models/official/efficientnet/lite/efficientnet_lite_builder.py "
        "(MEAN_RGB, STDDEV_RGB)",
        note="Same constants in edgetpu/efficientnet_edgetpu_builder.py and "
        "condconv/efficientnet_condconv_builder.py. timm's tf_efficientnet_lite{0-4}.in1k "
        "pretrained cfgs (timm/models/efficientnet.py) use mean=std=(0.5,0.5,0.5), i.e. "
        "(x-127.5)/127.5: off by up to ~0.008 from TF's (x-127)/128. Use this family for the "
        "TF/TFLite originals; timm's ports are the 'inception' preset.",
    ),
    Preset(
        name="tf_efficientnet",
        mean=_over(255, 0.485 * 255, 0.456 * 255, 0.406 * 255),
        std=_over(255, 0.229 * 255, 0.224 * 255, 0.225 * 255),
        source="tensorflow/tpu models/official/efficientnet/efficientnet_builder.py "
        "(MEAN_RGB, STDDEV_RGB); huggingface/pytorch-image-models timm/models/efficientnet.py "
        "(tf_efficientnet_b0.in1k etc.: _cfg default IMAGENET_DEFAULT_MEAN/STD)",
        note="Non-lite EfficientNet B0-B7 (and tpu/efficientnet_x_builder.py) use the ImageNet "
        "statistics. Exceptions in timm: tf_efficientnet_b*.ap_in1k (AdvProp) use "
        "IMAGENET_INCEPTION_MEAN/STD (0.5); tf_efficientnet_b*.ns_jft_in1k and .in1k use the "
        "ImageNet default.",
    ),
    Preset(
        name="efficientnetv2_tf",
        mean=_over(255, 128.0, 128.0, 128.0),
        std=_over(255, 128.0, 128.0, 128.0),
        source="google/automl efficientnetv2/preprocessing.py (preprocess_image: "
        "(image - 128.0) / 128.0)",
        note="Pretraining/eval path. The same file's preprocess_for_finetune ('ft*' augnames) "
        "uses mean, std = 0.5, 0.5 on x/255, and timm's tf_efficientnetv2_* cfgs use "
        "mean=std=(0.5,0.5,0.5). Differences are <= 0.5/128 in output units.",
    ),
    # ------------------------------------------------------------------ Segment Anything
    Preset(
        name="sam",
        mean=_over(255, 123.675, 116.28, 103.53),
        std=_over(255, 58.395, 57.12, 57.375),
        source="facebookresearch/segment-anything segment_anything/modeling/sam.py "
        "(Sam.__init__ pixel_mean, pixel_std); segment_anything/build_sam.py (_build_sam)",
        note="Numerically the ImageNet statistics times 255.",
    ),
    Preset(
        name="sam2",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="facebookresearch/sam2 sam2/utils/transforms.py (SAM2Transforms: self.mean, "
        "self.std); sam2/utils/misc.py (load_video_frames img_mean/img_std defaults)",
        note="Same numbers as SAM, written on the 0-1 scale. SAM2ImagePredictor expects RGB.",
    ),
    # ------------------------------------------------------------------ CLIP-like
    Preset(
        name="mobileclip",
        mean=_ZERO3,
        std=_ONE3,
        source="apple/ml-mobileclip mobileclip/__init__.py (create_model_and_transforms: "
        "Resize, CenterCrop, ToTensor, no Normalize); mlfoundations/open_clip "
        "src/open_clip/pretrained.py (_mccfg); huggingface/pytorch-image-models "
        "timm/models/fastvit.py (fastvit_mci*.apple_mclip cfgs)",
        note="Identity on [0, 1] (pixels / 255). Applies to MobileCLIP-S0/S1/S2/B/B-LT and "
        "MobileCLIP2-B/S0/S2. MobileCLIP2-S3/S4/L-14 differ: open_clip _mc2cfg and timm "
        "fastvit_mci{3,4}.apple_mclip2_dfndr2b use the OpenAI CLIP mean/std ('clip' preset). "
        "The hf_dataset_example.py CLIP constants are for DataCompDR augmentation replay, not "
        "MobileCLIP inference.",
    ),
    Preset(
        name="siglip2",
        mean=_HALF,
        std=_HALF,
        source="huggingface/transformers src/transformers/models/siglip2/"
        "image_processing_siglip2.py (Siglip2ImageProcessor image_mean/image_std defaults); "
        "google-research/big_vision big_vision/configs/proj/image_text/SigLIP2_demo.ipynb "
        "(value_range(-1, 1))",
        note="Pixels to [-1, 1], as SigLIP v1.",
    ),
    Preset(
        name="blip",
        mean=_CLIP_MEAN,
        std=_CLIP_STD,
        source="salesforce/LAVIS lavis/processors/blip_processors.py "
        "(BlipImageBaseProcessor default mean/std)",
        note="Used by the BLIP and BLIP-2 image processors in LAVIS.",
    ),
    Preset(
        name="qwen2_vl",
        mean=_CLIP_MEAN,
        std=_CLIP_STD,
        source="huggingface/transformers src/transformers/models/qwen2_vl/"
        "image_processing_qwen2_vl.py (Qwen2VLImageProcessor: OPENAI_CLIP_MEAN/STD)",
        note="Rescale 1/255 then normalize; do_convert_rgb True.",
    ),
    # ------------------------------------------------------------------ Diffusion
    Preset(
        name="sd_vae",
        mean=_HALF,
        std=_HALF,
        source="huggingface/diffusers src/diffusers/image_processor.py "
        "(VaeImageProcessor.normalize: 2.0 * images - 1.0)",
        note="2x - 1 on [0, 1] equals (x - 0.5) / 0.5. do_normalize defaults to True.",
    ),
    Preset(
        name="guided_diffusion",
        mean=_over(255, 127.5, 127.5, 127.5),
        std=_over(255, 127.5, 127.5, 127.5),
        source="openai/guided-diffusion guided_diffusion/image_datasets.py "
        "(ImageDataset.__getitem__: arr / 127.5 - 1)",
        note="Pixels to [-1, 1]; 127.5/255 == 0.5 exactly.",
    ),
    # ------------------------------------------------------------------ Keras applications
    Preset(
        name="keras_tf",
        mean=_over(255, 127.5, 127.5, 127.5),
        std=_over(255, 127.5, 127.5, 127.5),
        source="keras-team/keras keras/src/applications/imagenet_utils.py "
        "(_preprocess_numpy_input, mode='tf')",
        note="Used by preprocess_input of mobilenet, mobilenet_v2, inception_v3, "
        "inception_resnet_v2, xception, nasnet, resnet_v2.",
    ),
    Preset(
        name="keras_torch",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="keras-team/keras keras/src/applications/imagenet_utils.py "
        "(_preprocess_numpy_input, mode='torch')",
        note="Used by densenet.preprocess_input.",
    ),
    # ------------------------------------------------------------------ Detection / segmentation
    Preset(
        name="yolox",
        mean=_ZERO3,
        std=_PER_255,
        channel_order="BGR",
        source="Megvii-BaseDetection/YOLOX yolox/data/data_augment.py (preproc, "
        "ValTransform with legacy=False)",
        note="Raw 0-255 BGR. open-mmlab/mmdetection configs/yolox/yolox_s_8xb8-300e_coco.py "
        "agrees (DetDataPreprocessor with no mean/std and no bgr_to_rgb). Before commit "
        "c9fe0aae (2021-08-19) YOLOX used RGB /255 ImageNet mean/std: see yolox_legacy.",
    ),
    Preset(
        name="yolox_legacy",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="Megvii-BaseDetection/YOLOX yolox/data/data_augment.py "
        "(ValTransform.__call__ with legacy=True)",
        note="For YOLOX checkpoints released before 2021-08-19 (tools/demo.py --legacy). "
        "The pre-c9fe0aae preproc (parent of c9fe0aae2db90adccc90f7e5a16f044bf110c816) did "
        "BGR->RGB, /255, rgb_means=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225) "
        "(yolox/exp/yolox_base.py).",
    ),
    Preset(
        name="mask2former",
        mean=_over(255, 123.675, 116.280, 103.530),
        std=_over(255, 58.395, 57.120, 57.375),
        source="facebookresearch/Mask2Former configs/coco/panoptic-segmentation/"
        "Base-COCO-PanopticSegmentation.yaml (MODEL.PIXEL_MEAN, MODEL.PIXEL_STD, INPUT.FORMAT)",
        note="Same in configs/ade20k/semantic-segmentation/Base-ADE20K-SemanticSegmentation.yaml "
        "and the Swin configs; mask2former/maskformer_model.py applies "
        "(x - pixel_mean) / pixel_std on 0-255. Contrast the 'detectron2' preset (BGR, std 1).",
    ),
    Preset(
        name="mmdet_pytorch",
        mean=_over(255, 123.675, 116.28, 103.53),
        std=_over(255, 58.395, 57.12, 57.375),
        source="open-mmlab/mmdetection configs/_base_/models/faster-rcnn_r50_fpn.py "
        "(data_preprocessor: DetDataPreprocessor mean, std, bgr_to_rgb=True)",
        note="MMDetection 3.x default for pytorch-style (torchvision) backbones; images are "
        "loaded BGR and flipped to RGB before normalizing.",
    ),
    Preset(
        name="rtmdet",
        mean=_over(255, 103.53, 116.28, 123.675),
        std=_over(255, 57.375, 57.12, 58.395),
        channel_order="BGR",
        source="open-mmlab/mmdetection configs/rtmdet/rtmdet_l_8xb32-300e_coco.py "
        "(data_preprocessor: mean, std, bgr_to_rgb=False)",
        note="ImageNet statistics in BGR order, applied to the BGR image with a real std "
        "(unlike 'detectron2'/'mmdet_caffe', whose std is 1).",
    ),
    Preset(
        name="detr",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="facebookresearch/detr datasets/coco.py (make_coco_transforms: T.Normalize)",
        note="After ToTensor (/255), PIL RGB.",
    ),
    Preset(
        name="depth_anything_v2",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="DepthAnything/Depth-Anything-V2 depth_anything_v2/dpt.py "
        "(DepthAnythingV2.image2tensor: NormalizeImage)",
        note="Input RGB after the cv2 BGR->RGB conversion.",
    ),
    # ------------------------------------------------------------------ classification backbones
    Preset(
        name="torchvision_classification",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="pytorch/vision torchvision/transforms/_presets.py "
        "(ImageClassification, SemanticSegmentation default mean/std)",
        note="The weights.transforms() default for torchvision classification and "
        "segmentation weights. ObjectDetection presets only convert to float (the detection "
        "models normalize inside GeneralizedRCNNTransform).",
    ),
    Preset(
        name="kinetics400",
        mean=(0.43216, 0.394666, 0.37645),
        std=(0.22803, 0.22145, 0.216989),
        source="pytorch/vision torchvision/transforms/_presets.py "
        "(VideoClassification default mean/std)",
        note="torchvision video classification weights (Kinetics-400 statistics); applied per "
        "frame after convert_image_dtype to float.",
    ),
    Preset(
        name="beit",
        mean=_HALF,
        std=_HALF,
        source="huggingface/pytorch-image-models timm/models/beit.py (_cfg)",
        note="BEiT v1. BEiT v2 cfgs (e.g. beitv2_base_patch16_224.in1k_ft_in22k_in1k) override "
        "with IMAGENET_DEFAULT_MEAN/STD.",
    ),
    Preset(
        name="deit",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="huggingface/pytorch-image-models timm/models/deit.py (_cfg)",
    ),
    Preset(
        name="swin",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        source="huggingface/pytorch-image-models timm/models/swin_transformer.py (_cfg)",
        note="LeViT (timm/models/levit.py _cfg) is the same.",
    ),
    Preset(
        name="dinov3_sat",
        mean=(0.430, 0.411, 0.296),
        std=(0.213, 0.156, 0.143),
        source="facebookresearch/dinov3 README.md (make_transform for SAT-493M weights); "
        "huggingface/pytorch-image-models timm/models/eva.py "
        "(vit_large_patch16_dinov3.sat493m cfg)",
        note="DINOv3 satellite (SAT-493M, RGB aerial) weights. DINOv3 LVD-1689M weights use the "
        "ImageNet statistics (dinov3/data/transforms.py; timm _dinov3_cfg).",
    ),
    # ------------------------------------------------------------------ OCR / faces
    Preset(
        name="paddleocr_det",
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        channel_order="BGR",
        source="PaddlePaddle/PaddleOCR configs/det/det_mv3_db.yml (DecodeImage img_mode BGR; "
        "NormalizeImage); ppocr/data/imaug/operators.py (DecodeImage, NormalizeImage)",
        note="The ImageNet RGB-order numbers applied positionally to a BGR image "
        "(operators.NormalizeImage does no channel swap): channel 0 (B) gets 0.485/0.229. "
        "Numbers equal 'imagenet' but the channel order differs; this is what the DB text "
        "detectors were trained with.",
    ),
    Preset(
        name="paddleocr_rec",
        mean=_HALF,
        std=_HALF,
        channel_order="BGR",
        source="PaddlePaddle/PaddleOCR ppocr/data/imaug/rec_img_aug.py (resize_norm_img)",
        note="Text recognizers (CRNN/SVTR family). Symmetric constants, so the BGR input order "
        "does not change the numbers. resize_norm_img_abinet in the same file uses ImageNet "
        "mean/std instead.",
    ),
    Preset(
        name="facenet",
        mean=_over(255, 127.5, 127.5, 127.5),
        std=_over(255, 128.0, 128.0, 128.0),
        source="timesler/facenet-pytorch models/mtcnn.py (fixed_image_standardization)",
        note="On 0-255 RGB. Not 0.5/0.5: std is 128, not 127.5.",
    ),
    Preset(
        name="scrfd",
        mean=_over(255, 127.5, 127.5, 127.5),
        std=_over(255, 128.0, 128.0, 128.0),
        source="deepinsight/insightface python-package/insightface/model_zoo/scrfd.py "
        "(SCRFD.forward: cv2.dnn.blobFromImage)",
        note="Input image is cv2 BGR; swapRB=True makes the model input RGB. Same numbers as "
        "'facenet'.",
    ),
    Preset(
        name="arcface",
        mean=_over(255, 127.5, 127.5, 127.5),
        std=_over(255, 127.5, 127.5, 127.5),
        source="deepinsight/insightface python-package/insightface/model_zoo/arcface_onnx.py "
        "(ArcFaceONNX.__init__ input_mean/input_std; get_feat)",
        note="Only for ONNX graphs without a leading Sub/Mul node; mxnet-converted ArcFace "
        "graphs that normalize internally get input_mean 0.0, input_std 1.0 (raw 0-255).",
    ),
    # ------------------------------------------------------------------ small datasets
    Preset(
        name="cifar10",
        mean=_over(255, 125.3, 123.0, 113.9),
        std=_over(255, 63.0, 62.1, 66.7),
        source="Lightning-Universe/lightning-bolts src/pl_bolts/transforms/"
        "dataset_normalizations.py (cifar10_normalization)",
        note="Per-pixel statistics of the CIFAR-10 training set. See cifar10_kuangliu for the "
        "widely copied alternative with a smaller std.",
    ),
    Preset(
        name="cifar10_kuangliu",
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2023, 0.1994, 0.2010),
        source="kuangliu/pytorch-cifar main.py (transform_train/transform_test Normalize)",
        note="The std is not the per-pixel std of CIFAR-10 (~0.247, 0.243, 0.261); issues #8, "
        "#16, #19 of kuangliu/pytorch-cifar discuss it. Needed to reproduce models trained "
        "with this script and its many copies.",
    ),
    Preset(
        name="stl10",
        mean=(0.43, 0.42, 0.39),
        std=(0.27, 0.26, 0.27),
        source="Lightning-Universe/lightning-bolts src/pl_bolts/transforms/"
        "dataset_normalizations.py (stl10_normalization)",
    ),
    Preset(
        name="mnist",
        mean=(0.1307,),
        std=(0.3081,),
        band_names=("gray",),
        source="pytorch/examples mnist/main.py (transforms.Normalize)",
        note="Single channel; channel_order is meaningless here.",
    ),
    # ------------------------------------------------------------------ multispectral (C != 3)
    Preset(
        name="sentinel2_torchgeo",
        mean=_over(
            10000,
            1354.40546513,
            1118.24399958,
            1042.92983953,
            947.62620298,
            1199.47283961,
            1999.79090914,
            2369.22292565,
            2296.82608323,
            732.08340178,
            12.11327804,
            1819.01027855,
            1118.92391149,
            2594.14080798,
        ),
        std=_over(
            10000,
            245.71762908,
            333.00778264,
            395.09249139,
            593.75055589,
            566.4170017,
            861.18399006,
            1086.63139075,
            1117.98170791,
            404.91978886,
            4.77584468,
            1002.58768311,
            761.30323499,
            1231.58581042,
        ),
        max_pixel_value=10000,
        band_names=_S2_EUROSAT_TORCHGEO,
        source="microsoft/torchgeo torchgeo/datamodules/eurosat.py (MEAN, STD); band order "
        "torchgeo/datasets/eurosat.py (EuroSAT.all_band_names)",
        note="EuroSAT (Sentinel-2 L1C) statistics in raw digital numbers (reflectance x 10000). "
        "Stored /10000 with max_pixel_value 10000, i.e. exactly (x - MEAN) / STD on raw DN. "
        "Band order is the EuroSAT file order with B8A LAST (TorchGeo fixed its labels in "
        "commit 58dc3217f, 2024-12-19, v0.7; the positional numbers did not change). "
        "EuroSATSpatial uses different SPATIAL_MEAN/SPATIAL_STD in the same file.",
    ),
    Preset(
        name="ssl4eo_s12_s2l1c",
        mean=_over(
            10000,
            1605.57504906,
            1390.78157673,
            1314.8729939,
            1363.52445545,
            1549.44374991,
            2091.74883118,
            2371.7172463,
            2299.90463006,
            2560.29504086,
            830.06605044,
            22.10351321,
            2177.07172323,
            1524.06546312,
        ),
        std=_over(
            10000,
            786.78685367,
            850.34818441,
            875.06484736,
            1138.84957046,
            1122.17775652,
            1161.59187054,
            1274.39184232,
            1248.42891965,
            1345.52684884,
            577.31607053,
            51.15431158,
            1336.09932639,
            1136.53823676,
        ),
        max_pixel_value=10000,
        band_names=_S2_L1C_SSL4EO,
        source="zhu-xlab/SSL4EO-S12 src/benchmark/pretrain_ssl/datasets/SSL4EO/"
        "ssl4eo_dataset.py (S2C_MEAN, S2C_STD, ALL_BANDS_S2_L1C)",
        note="SSL4EO-S12 Sentinel-2 L1C (13 bands, B8A after B8). Stored as a z-score in raw DN. "
        "The repo itself does NOT z-score: its normalize() maps [mean-2*std, mean+2*std] to "
        "[0, 255], clips and casts to uint8 (then ToTensor /255), i.e. (x - (m-2s)) / (4s) "
        "clipped to [0, 1]; that is Normalize(mean=m-2s, std=4s) plus a clip, which a "
        "mean/std preset cannot express. Downstream EuroSAT code alternatively uses "
        "x / 10000 * 255 as uint8 (see ssl4eo_s12_torchgeo).",
    ),
    Preset(
        name="ssl4eo_s12_s2l2a",
        mean=_over(
            10000,
            752.40087073,
            884.29673756,
            1144.16202635,
            1297.47289228,
            1624.90992062,
            2194.6423161,
            2422.21248945,
            2517.76053101,
            2581.64687018,
            2645.51888987,
            2368.51236873,
            1805.06846033,
        ),
        std=_over(
            10000,
            1108.02887453,
            1155.15170768,
            1183.6292542,
            1368.11351514,
            1370.265037,
            1355.55390699,
            1416.51487101,
            1474.78900051,
            1439.3086061,
            1582.28010962,
            1455.52084939,
            1343.48379601,
        ),
        max_pixel_value=10000,
        band_names=_S2_L2A_SSL4EO,
        source="zhu-xlab/SSL4EO-S12 src/benchmark/pretrain_ssl/datasets/SSL4EO/"
        "ssl4eo_dataset.py (S2A_MEAN, S2A_STD, ALL_BANDS_S2_L2A)",
        note="Sentinel-2 L2A surface reflectance, 12 bands (no B10). Same caveat as "
        "ssl4eo_s12_s2l1c about the repo's clipped mean+-2std mapping.",
    ),
    Preset(
        name="ssl4eo_s12_s1",
        mean=(-12.54847273, -20.19237134),
        std=(5.25697717, 5.91150917),
        max_pixel_value=1.0,
        band_names=("VV", "VH"),
        source="zhu-xlab/SSL4EO-S12 src/benchmark/pretrain_ssl/datasets/SSL4EO/"
        "ssl4eo_dataset.py (S1_MEAN, S1_STD, ALL_BANDS_S1_GRD)",
        note="Sentinel-1 GRD backscatter in dB (float). max_pixel_value 1.0 so the stats apply "
        "to the dB values directly. TorchGeo's _mean_s1/_std_s1 (torchgeo/models/resnet.py, "
        "DeCUR/SoftCon S1 weights) and SSL4EO-S12 src/download_data/convert_rgb.py use "
        "rounded, slightly different values: mean (-12.59, -20.26), std (5.26, 5.91).",
    ),
    Preset(
        name="ssl4eo_s12_torchgeo",
        mean=(0.0,) * 13,
        std=(1.0,) * 13,
        max_pixel_value=10000,
        band_names=_S2_TOA_TORCHGEO,
        source="microsoft/torchgeo torchgeo/models/resnet.py (_ssl4eo_s12_transforms_s2_10k); "
        "torchgeo/models/vit.py (_zhu_xlab_transforms); torchgeo/datamodules/ssl4eo.py "
        "(SSL4EOS12DataModule.mean/std)",
        note="Raw Sentinel-2 DN / 10000, no per-band statistics. Used by TorchGeo's "
        "SSL4EO-S12 weights: ResNet SENTINEL2_ALL_MOCO/_DINO/_DECUR and SENTINEL2_RGB_MOCO, "
        "ViT SENTINEL2_ALL_DINO/_MOCO/_MAE/_FGMAE. Disagrees with "
        "ssl4eo_s12_s2l1c (per-band stats): TorchGeo chose the x/10000 path of SSL4EO-S12's "
        "EuroSAT transfer code; keep both. Same per-channel value for any band count (13 "
        "listed).",
    ),
    Preset(
        name="softcon_s2l1c",
        mean=_over(
            10000,
            1612.9,
            1397.6,
            1322.3,
            1373.1,
            1561.0,
            2108.4,
            2390.7,
            2318.7,
            2581.0,
            837.7,
            22.0,
            2195.2,
            1537.4,
        ),
        std=_over(
            10000,
            791.0,
            854.3,
            878.7,
            1144.9,
            1127.5,
            1164.2,
            1276.0,
            1249.5,
            1345.9,
            577.5,
            47.5,
            1340.0,
            1142.9,
        ),
        max_pixel_value=10000,
        band_names=_S2_TOA_TORCHGEO,
        source="microsoft/torchgeo torchgeo/models/resnet.py (_mean_s2, _std_s2, "
        "_ssl4eo_s12_transforms_s2_stats); values from zhu-xlab/SSL4EO-S12 "
        "src/download_data/convert_rgb.py (S2C_MEAN, S2C_STD)",
        note="Z-score on raw L1C DN used by TorchGeo only for the SoftCon weights (ResNet50 "
        "and ViT-S/B-14 DINOv2 SENTINEL2_ALL_SOFTCON). Rounded values that "
        "differ from ssl4eo_s12_s2l1c (e.g. B1 1612.9 vs 1605.575; B10 std 47.5 vs 51.154): "
        "the same repo publishes two sets; keep both.",
    ),
    Preset(
        name="prithvi_eo_v2",
        mean=_over(10000, 1087.0, 1342.0, 1433.0, 2734.0, 1958.0, 1363.0),
        std=_over(10000, 2248.0, 2179.0, 2178.0, 1850.0, 1242.0, 1049.0),
        max_pixel_value=10000,
        band_names=_HLS_PRITHVI,
        source="IBM/terratorch terratorch/models/backbones/prithvi_vit.py "
        "(PRITHVI_V2_MEAN, PRITHVI_V2_STD, PRETRAINED_BANDS)",
        note="Prithvi-EO-2.0 (100M/300M/600M, with and without TL) on HLS surface reflectance "
        "scaled by 10000. The unscaled HF config values were not read (see notes).",
    ),
    Preset(
        name="prithvi_eo_v1",
        mean=_over(10000, 775.0, 1081.0, 1229.0, 2497.0, 2204.0, 1611.0),
        std=_over(10000, 1282.0, 1270.0, 1399.0, 1368.0, 1292.0, 1155.0),
        max_pixel_value=10000,
        band_names=_HLS_PRITHVI,
        source="IBM/terratorch terratorch/models/backbones/prithvi_vit.py "
        "(PRITHVI_V1_MEAN, PRITHVI_V1_STD, prithvi_eo_v1_100)",
        note="Prithvi-100M (EO 1.0). TerraTorch rounds to integers; the HF model config "
        "(ibm-nasa-geospatial/Prithvi-100M config.yaml) reportedly has 775.2290211032589, ... "
        "(seen only in third-party copies, NOT verified at the defining source).",
    ),
)
