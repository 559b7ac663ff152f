"""Every label, explanation and message of the app, in English and Chinese."""

from __future__ import annotations

import streamlit as st

LANGUAGES = {"en": "English", "zh": "中文"}

STRINGS: dict[str, tuple[str, str]] = {
    # navigation and selection
    "app_title": ("MobileNet Explorer", "MobileNet 探索器"),
    "page_overview": ("Overview", "总览"),
    "page_graph": ("Layer graph", "层级结构图"),
    "page_charts": ("Charts", "图表"),
    "page_anatomy": ("Block anatomy", "模块剖析"),
    "page_compare": ("Compare", "对比"),
    "page_classify": ("Classify", "图像分类"),
    "language": ("Language", "语言"),
    "model": ("Model", "模型"),
    "alpha": ("Width multiplier α", "宽度乘子 α"),
    "paper_alphas": ("Paper values of α", "论文中的 α 取值"),
    "resolution": ("Input resolution (px)", "输入分辨率（像素）"),
    "rho_caption": (
        "ρ = {res} / {base} = {rho:.3f} (base {base} px)",
        "ρ = {res} / {base} = {rho:.3f}（基准 {base} 像素）",
    ),
    "invalid_query": (
        "Ignored an invalid value in the link: {name}={value!r}. Using the default instead.",
        "链接中的参数无效：{name}={value!r}，已改用默认值。",
    ),
    "clamped_resolution": (
        "{res} px is outside {model}'s range; using {new} px.",
        "{res} 像素超出 {model} 的范围，已改为 {new} 像素。",
    ),
    # overview
    "params": ("Parameters", "参数量"),
    "macs": ("MACs", "乘加运算量（MACs）"),
    "flops": ("FLOPs (= 2 × MACs)", "FLOPs（= 2 × MACs）"),
    "activations": ("Activation memory (float32)", "激活内存（float32）"),
    "activations_help": (
        "Sum of every layer's output at batch 1 (upper bound); peak of one block's input + output "
        "(lower bound): {peak}.",
        "批大小为 1 时所有层输出之和（上界）；单个模块输入加输出的峰值（下界）：{peak}。",
    ),
    "output_shape": ("Last feature map", "最后特征图"),
    "delta_caption": (
        "Deltas against {model} at α = 1 and {base} px.",
        "增量相对于 {model}（α = 1，{base} 像素）。",
    ),
    "published_top1": ("Published ImageNet top-1", "已发表的 ImageNet top-1"),
    "published_none": (
        "No published figure for exactly this configuration. Published configurations of this "
        "model: {configs}.",
        "此配置没有已发表的数据。此模型已发表的配置：{configs}。",
    ),
    "checkpoint_top1": (
        "Checkpoint top-1 {top1}% · {name} · source: {source}",
        "检查点 Top-1 {top1}% · {name} · 来源：{source}",
    ),
    "published_row": (
        "Top-1 {top1}% · paper figures: {macs} M MACs, {params} M params · source: {source}",
        "Top-1 {top1}% · 论文数据：{macs} M MACs，{params} M 参数 · 来源：{source}",
    ),
    "mac_convention_title": (
        "How MACs are counted here (and what other tools report)",
        "本工具如何统计 MACs（以及其他工具的结果）",
    ),
    "mac_convention": (
        "**Convention:** MACs are the multiply-accumulates of convolutions, linear layers and the attention "
        "products (q·kᵀ and attn·v). Batch norm, activations, pooling, residual additions and the SE gate's "
        "multiply are not counted. FLOPs = 2 × MACs. Parameters include BN γ and β. This is the MobileNet "
        "papers' \"Mult-Adds\" and equals PyTorch's FlopCounterMode ÷ 2.",
        "**约定：** MACs 统计卷积、全连接层以及注意力矩阵乘（q·kᵀ 与 attn·v）的乘加次数；不计批归一化、激活函数、池化、"
        "残差相加以及 SE 门控的逐通道乘法。FLOPs = 2 × MACs。参数量包含 BN 的 γ 和 β。这与 MobileNet 论文中的 "
        "“Mult-Adds” 一致，也等于 PyTorch FlopCounterMode 结果的一半。",
    ),
    "other_tools": ("What other counters would report for this model", "其他统计工具对此模型的结果"),
    "tool": ("Tool", "工具"),
    "reports": ("Reports", "结果"),
    "why": ("Why it differs", "差异原因"),
    "tool_ours": ("analytic, from the specs", "由结构规格解析计算"),
    "tool_torchinfo": (
        "exact: adds one per BN and bias parameter and misses the {attn} attention MACs (functional "
        "matmuls are not modules, so its hooks never see them)",
        "精确值：每个 BN 与偏置参数各加 1；漏掉 {attn} 次注意力乘加（函数式矩阵乘不是模块，钩子看不到）",
    ),
    "tool_fvcore": (
        "also counts batch norm (about one op per BN output element: +{bn}); fused attention unsupported "
        "(estimate from our rows, not run)",
        "另外统计批归一化（每个 BN 输出元素约 1 次：+{bn}）；不支持融合注意力"
        "（根据本工具的逐层数据估算，未实际运行）",
    ),
    "tool_thop": (
        "thop and ptflops add ops for activations, batch norm, pooling and additions (one or more per "
        "element, by their own rules) and, being hook-based, miss the {attn} attention MACs (not run here)",
        "thop 与 ptflops 还按各自规则为激活、批归一化、池化与加法逐元素计数；基于钩子，因而漏掉 {attn} 次注意力乘加"
        "（此处未实际运行）",
    ),
    "blocks_table": ("Blocks", "模块列表"),
    "download_csv": ("Download table (CSV)", "下载表格（CSV）"),
    "download_layers_csv": ("Download layer table (CSV)", "下载逐层表格（CSV）"),
    "col_block": ("block", "模块"),
    "col_type": ("type", "类型"),
    "col_in": ("in", "输入通道"),
    "col_exp": ("expanded", "扩展通道"),
    "col_out": ("out", "输出通道"),
    "col_kernel": ("kernel", "卷积核"),
    "col_stride": ("stride", "步长"),
    "col_output": ("output C×H×W", "输出 C×H×W"),
    "col_params": ("params", "参数量"),
    "col_macs": ("MACs", "MACs"),
    "col_variant": ("variant", "变体"),
    "col_kernel_uib": ("kernel (start/mid)", "卷积核（起始/中间）"),
    "col_act": ("activation", "激活函数"),
    "col_residual": ("residual", "残差"),
    "col_se": ("SE width", "SE 宽度"),
    # graph
    "graph_level": ("Detail", "细节"),
    "level_blocks": ("Blocks", "模块级"),
    "level_layers": ("All layers", "全部层"),
    "level_one": ("Expand one block", "展开单个模块"),
    "expand_which": ("Block to expand", "要展开的模块"),
    "viewer_fit": ("Fit", "适应窗口"),
    "viewer_zoom_in": ("Zoom in", "放大"),
    "viewer_zoom_out": ("Zoom out", "缩小"),
    "viewer_search": (
        "Find a block (e.g. blocks.3.1, MQA, ExtraDW)",
        "查找模块（如 blocks.3.1、MQA、ExtraDW）",
    ),
    "viewer_found": ("{n} found", "找到 {n} 个"),
    "graph_pick": ("Block", "模块"),
    "open_in_anatomy": ("Open in Block anatomy", "在模块剖析中打开"),
    "fold": ("Fold repeated identical blocks (× n)", "折叠重复的相同模块（× n）"),
    "graph_help": (
        "One column per stage, left to right; colors by block type (legend on the right); ⊕ marks a "
        "residual connection. Drag to pan, scroll or use the buttons to zoom, click a block for its "
        "details.",
        "每个阶段一列，从左到右；颜色表示模块类型（右侧图例）；⊕ 表示残差连接。拖动可平移，滚轮或按钮可缩放，"
        "点击模块查看详情。",
    ),
    "download_png": ("PNG", "PNG"),
    "download_svg": ("SVG", "SVG"),
    "download_dot": ("DOT source", "DOT 源文件"),
    "no_dot": (
        "Graphviz's `dot` is not installed here, so PNG/SVG downloads are off (the DOT source works).",
        "本机未安装 Graphviz 的 `dot`，因此无法下载 PNG/SVG（DOT 源文件仍可下载）。",
    ),
    # charts
    "chart_params": ("Parameters per block", "每个模块的参数量"),
    "chart_macs": ("MACs per block", "每个模块的 MACs"),
    "chart_cumulative": ("Cumulative share of params and MACs", "参数量与 MACs 的累计占比"),
    "chart_profile": ("Resolution and channels through the network", "网络中分辨率与通道数的变化"),
    "chart_memory": (
        "Output activation memory per block (float32, batch 1)",
        "每个模块输出的激活内存（float32，批大小 1）",
    ),
    "figure_format": ("Figure downloads (camera button)", "图表下载格式（相机按钮）"),
    "figure_png": ("PNG, 3× (print)", "PNG，3 倍（打印）"),
    "present_switch": ("Presentation mode", "演示模式"),
    "present_help": (
        "For a projector: hides the sidebar and the controls, enlarges text and figures; ← and → step through the views, Esc leaves. The link gets ?present=1.",
        "用于投影：隐藏侧边栏和控件，放大文字和图表；← 和 → 切换视图，Esc 退出。链接中带有 ?present=1。",
    ),
    "present_hint": ("← → views · Esc leaves", "← → 切换视图 · Esc 退出"),
    "cumulative_params": ("params", "参数量"),
    "cumulative_macs": ("MACs", "MACs"),
    "channels": ("output channels", "输出通道数"),
    "spatial": ("output side (px)", "输出边长（像素）"),
    "memory_kib": ("KiB", "KiB"),
    "share": ("share of total (%)", "占总量的百分比（%）"),
    # anatomy
    "pick_block": ("Block", "模块"),
    "anatomy_source": ("Architecture", "结构"),
    "anatomy_lab": ("Design lab: {base}", "设计实验室：{base}"),
    "anatomy_lab_unusable": (
        "The design lab's architecture does not work at this α and resolution ({error}); showing the model.",
        "设计实验室的结构在当前 α 与分辨率下不可用（{error}）；显示原模型。",
    ),
    "this_block": ("This block, with its real shapes", "此模块（真实形状）"),
    "counterpart": ("What it replaces", "它所替代的结构"),
    "counterpart_ds": (
        "A standard convolution with the same input, output and kernel.",
        "具有相同输入、输出和卷积核的标准卷积。",
    ),
    "counterpart_ir": (
        "ResNet's bottleneck residual keeps the wide tensors at the ends and squeezes in the middle; "
        "the inverted residual expands in the middle, keeps the ends narrow and leaves the projection "
        "linear (no activation), since ReLU destroys information in low dimensions.",
        "ResNet 瓶颈残差在两端保持宽张量、中间压缩；倒残差则在中间扩展、两端保持窄，并让投影层保持线性"
        "（无激活），因为 ReLU 在低维空间会破坏信息。",
    ),
    "uib_variants": ("UIB variants with this block's widths", "以此模块宽度绘制的 UIB 变体"),
    "formulas": ("Cost formulas with this block's numbers", "代入此模块数值的计算量公式"),
    "scaling": (
        "Width and resolution multipliers: the rule of thumb against the exact counts",
        "宽度与分辨率乘子：经验公式与精确计数的对比",
    ),
    "scaling_note": (
        "α² ρ² holds for the layers alpha scales; rounding to multiples of 8 and widths that do not "
        "scale (V2's 1280 head below α = 1, V3/V4 heads) make the exact ratio differ.",
        "α² ρ² 只对受 α 缩放的层成立；通道数取整为 8 的倍数以及不缩放的层（α < 1 时 V2 的 1280 头部、V3/V4 的头部）"
        "会使精确比值与之不同。",
    ),
    "mqa_note": (
        "Mobile MQA: all query heads share one key and one value head; keys and values can be "
        "downsampled by a stride-2 depthwise conv, which cuts the attention cost by 4.",
        "Mobile MQA：所有查询头共享同一个键头和值头；键和值可用步长为 2 的深度卷积下采样，使注意力计算量降为四分之一。",
    ),
    "no_formula": (
        "The papers give no closed form for this block type; the diagram lists each op's exact cost.",
        "论文没有给出此类模块的闭式公式；图中列出了每个操作的精确计算量。",
    ),
    "cost_standard": ("Standard convolution", "标准卷积"),
    "cost_depthwise": ("Depthwise convolution", "深度卷积"),
    "cost_pointwise": ("Pointwise (1×1) convolution", "逐点（1×1）卷积"),
    "cost_separable": ("Depthwise separable = depthwise + pointwise", "深度可分离 = 深度卷积 + 逐点卷积"),
    "cost_ratio": ("Ratio separable / standard", "深度可分离与标准卷积之比"),
    "cost_expand": ("1×1 expansion", "1×1 扩展"),
    "cost_project": ("1×1 linear projection", "1×1 线性投影"),
    "cost_se": ("Squeeze-and-excitation", "压缩-激励（SE）"),
    "cost_total": ("Block total", "模块总计"),
    "cost_predicted": ("Predicted MAC ratio against α = 1, ρ = 1", "相对 α = 1、ρ = 1 的预测 MACs 比"),
    "cost_exact": ("Exact MAC ratio", "精确 MACs 比"),
    "cost_predicted_params": ("Predicted parameter ratio", "预测参数量比"),
    "cost_exact_params": ("Exact parameter ratio", "精确参数量比"),
    # compare
    "compare_intro": (
        "Compare two to four configurations. The first one is the baseline for the deltas.",
        "对比二到四个配置，第一个作为增量的基准。",
    ),
    "configurations": ("Number of configurations", "配置数量"),
    "config_n": ("Configuration {n}", "配置 {n}"),
    "delta_vs_first": ("Δ vs first", "相对第一个的差值"),
    "stacked_macs": ("MACs per stage", "每个阶段的 MACs"),
    "stacked_params": ("Parameters per stage", "每个阶段的参数量"),
    "scatter_title": (
        "Published configurations: MACs vs top-1 (marker size: params)",
        "已发表配置：MACs 与 top-1（标记大小：参数量）",
    ),
    "current": ("current selection", "当前选择"),
    "top1": ("ImageNet top-1 (%)", "ImageNet top-1（%）"),
    "stage": ("stage", "阶段"),
    "configuration": ("configuration", "配置"),
}


def current_language() -> str:
    lang = st.session_state.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


def t(key: str, **kwargs) -> str:
    en, zh = STRINGS[key]
    text = zh if current_language() == "zh" else en
    return text.format(**kwargs) if kwargs else text


STRINGS.update(
    {
        "published_weights": ("Published checkpoint for this configuration", "此配置的已发布权重"),
        "download_weights": ("Download pretrained weights", "下载预训练权重"),
        "retry_download": ("Try the download again", "重新尝试下载"),
        "downloading": ("Downloading {name}", "正在下载 {name}"),
        "weights_offline": (
            "No internet: the pretrained weights for {config} (about {mb} MB) could not be downloaded.",
            "没有网络：无法下载 {config} 的预训练权重（约 {mb} MB）。",
        ),
        "weights_server": (
            "The pretrained weights for {config} (about {mb} MB) could not be downloaded: the download server did not send them.",
            "无法下载 {config} 的预训练权重（约 {mb} MB）：下载服务器没有提供该文件。",
        ),
        "weights_corrupt": (
            "The pretrained weights for {config} arrived damaged and were thrown away. Try the download again.",
            "{config} 的预训练权重下载后已损坏并被丢弃。请重新下载。",
        ),
        "weights_too_big": (
            "The download server offered a file far larger than the weights for {config} should be; it was not downloaded.",
            "下载服务器提供的文件远大于 {config} 的权重应有的大小，未下载。",
        ),
        "weights_not_downloaded": (
            "The pretrained weights for {config} (about {mb} MB) are not downloaded yet.",
            "{config} 的预训练权重（约 {mb} MB）尚未下载。",
        ),
        "upload_checkpoint_button": ("Upload a checkpoint file", "上传权重文件"),
        "use_untrained_button": ("Use the untrained network", "使用未训练的网络"),
        "untrained_no_cam": (
            "No Grad-CAM: with random weights there is nothing to explain, and the classes below are meaningless.",
            "不显示 Grad-CAM：随机权重没有可解释的内容，下方的类别也没有意义。",
        ),
        "top5_untrained": (
            "Top-5 of an UNTRAINED network: meaningless classes · {ms:.1f} ms",
            "未训练网络的 Top-5：类别没有意义 · {ms:.1f} 毫秒",
        ),
        "no_published": (
            "No published checkpoint for {model} at α {alpha:g}, {res} px. Nearest published configuration: {near}. Switch to it, upload a checkpoint file, or use the untrained network.",
            "{model}（α {alpha:g}，{res} 像素）没有已发布的权重。最接近的已发布配置：{near}。可以切换到该配置、上传权重文件，或运行未训练的网络。",
        ),
        "switch_nearest": ("Switch to {name}", "切换到 {name}"),
        "upload_checkpoint": (
            "…or upload a checkpoint (.pth / .safetensors, timm or torchvision layout)",
            "……或上传权重文件（.pth / .safetensors，timm 或 torchvision 格式）",
        ),
        "checkpoint_refused": ("Checkpoint refused: {error}", "权重文件被拒绝：{error}"),
        "source_pretrained": ("Pretrained ImageNet weights: {name}", "ImageNet 预训练权重：{name}"),
        "source_uploaded": ("Weights from your upload: {name}", "来自上传文件的权重：{name}"),
        "source_untrained": (
            "UNTRAINED network (random weights): its predictions mean nothing",
            "未训练的网络（随机权重）：预测结果没有意义",
        ),
        "use_untrained": ("Run the untrained network (random weights)", "运行未训练的网络（随机权重）"),
        "backend_caption": (
            "Fast path: {backend} · preprocessing: resize {resize} ({interpolation}), center crop {crop}",
            "快速推理：{backend} · 预处理：缩放到 {resize}（{interpolation}），中心裁剪 {crop}",
        ),
        "upload_images": (
            "Drop photos here (JPEG, PNG, WebP, BMP, GIF, TIFF; several at once)",
            "把照片拖到这里（JPEG、PNG、WebP、BMP、GIF、TIFF，可多张）",
        ),
        "use_samples": ("Add the sample photos (CC0 / public domain)", "加入示例照片（CC0 / 公有领域）"),
        "image_refused": ("{error}", "{error}"),
        "img_empty": ("{name}: the file is empty.", "{name}：文件是空的。"),
        "img_too_many_bytes": (
            "{name}: {mib} MiB is over the {limit} MiB limit.",
            "{name}：{mib} MiB 超过了 {limit} MiB 的上限。",
        ),
        "img_unsupported": (
            "{name}: {format} images are not supported (use JPEG, PNG, WebP, BMP, GIF or TIFF).",
            "{name}：不支持 {format} 格式（请使用 JPEG、PNG、WebP、BMP、GIF 或 TIFF）。",
        ),
        "img_too_many_pixels": (
            "{name}: {width}×{height} pixels is over the {limit} megapixel limit.",
            "{name}：{width}×{height} 像素超过了 {limit} 百万像素的上限。",
        ),
        "img_too_small": (
            "{name}: {width}×{height} pixels is too small to classify.",
            "{name}：{width}×{height} 像素太小，无法分类。",
        ),
        "img_bomb": (
            "{name} is too large (a possible decompression bomb) and was not opened.",
            "{name} 过大（可能是解压炸弹），未打开。",
        ),
        "img_not_image": ("{name} is not an image we can read.", "{name} 不是可读取的图像。"),
        "img_damaged": ("{name}: the image is damaged or truncated.", "{name}：图像已损坏或不完整。"),
        "img_unreadable": ("{name}: the file cannot be read.", "{name}：无法读取文件。"),
        "original": ("original {w}×{h}", "原图 {w}×{h}"),
        "network_input": ("what the network sees ({size}×{size})", "网络的输入（{size}×{size}）"),
        "cam_class": ("Grad-CAM for", "Grad-CAM 类别"),
        "grad_cam": ("Grad-CAM: where the last stage looked", "Grad-CAM：最后阶段关注的区域"),
        "top5": ("Top-5 · {ms:.1f} ms", "Top-5 · {ms:.1f} 毫秒"),
        "feature_maps": ("Feature maps", "特征图"),
        "image": ("Image", "图像"),
        "feature_caption": (
            "First 16 channels of {block}, each {shape[0]}×{shape[1]}",
            "{block} 的前 16 个通道，每个 {shape[0]}×{shape[1]}",
        ),
        "download_onnx": (
            "Download this model as ONNX (for Netron or deployment)",
            "下载此模型的 ONNX 文件（用于 Netron 或部署）",
        ),
    }
)


STRINGS.update(
    {
        "page_lab": ("Design lab", "设计实验室"),
        "lab_intro": (
            "Start from any model and edit its block table: change expansion, kernels, stride, width, repeats, SE, activation, UIB variant (start / mid kernels); add or delete rows. Counts, graph and chart follow at once; an invalid edit is explained and the last valid architecture stays.",
            "从任一模型出发编辑其模块表：修改扩展率、卷积核、步长、宽度、重复次数、SE、激活函数、UIB 变体（起始 / 中间卷积核），增删行。计数、结构图与图表即时更新；无效的修改会给出说明，并保留上一个有效的结构。",
        ),
        "lab_base": ("Start from", "起始模型"),
        "lab_reset": ("Reset to the model", "恢复为原模型"),
        "lab_load": ("Load an architecture (JSON)", "载入结构（JSON）"),
        "lab_bad_link": (
            "The architecture in the link could not be used: {error}",
            "链接中的结构无法使用：{error}",
        ),
        "lab_invalid": ("Invalid edit: {error}", "无效的修改：{error}"),
        "lab_blocks": ("Blocks", "模块数"),
        "lab_rows": ("rows", "行"),
        "labcol_repeats": ("repeats", "重复 repeats"),
        "labcol_stage": ("stage", "阶段 stage"),
        "labhelp_stage": (
            "Stage index: blocks of one stage are built one after another.",
            "阶段序号：同一阶段的模块依次构建。",
        ),
        "labcol_type": ("type", "类型 type"),
        "labhelp_type": (
            "conv, ds (depthwise separable), ir (inverted residual), fused_ib, uib, mqa (Mobile MQA).",
            "conv、ds（深度可分离）、ir（倒残差）、fused_ib、uib、mqa（Mobile MQA）。",
        ),
        "labcol_out": ("out", "输出通道 out"),
        "labhelp_out": (
            "Output channels at α = 1 (α and the rounding rule apply on top).",
            "α = 1 时的输出通道数（再按 α 与取整规则缩放）。",
        ),
        "labcol_expand": ("expand", "扩展率 expand"),
        "labhelp_expand": (
            "Expansion ratio t of the inverted residual / UIB / FusedIB.",
            "倒残差 / UIB / FusedIB 的扩展率 t。",
        ),
        "labcol_kernel": ("kernel", "卷积核 kernel"),
        "labhelp_kernel": ("Kernel size (odd: 1, 3, 5, 7, 9).", "卷积核尺寸（奇数：1、3、5、7、9）。"),
        "labcol_start": ("start", "起始核 start"),
        "labhelp_start": (
            "UIB: kernel of the depthwise before the expansion (0 = none).",
            "UIB：扩展前深度卷积的卷积核（0 = 无）。",
        ),
        "labcol_mid": ("mid", "中间核 mid"),
        "labhelp_mid": (
            "UIB: kernel of the depthwise after the expansion (0 = none).",
            "UIB：扩展后深度卷积的卷积核（0 = 无）。",
        ),
        "labcol_stride": ("stride", "步长 stride"),
        "labhelp_stride": (
            "1 or 2; with repeats, only the first block of the row has it.",
            "1 或 2；有重复时只有该行的第一个模块使用它。",
        ),
        "labcol_se": ("se", "SE se"),
        "labhelp_se": ("Squeeze-and-excitation on this block.", "该模块使用挤压-激励（SE）。"),
        "lab_resolution_clamped": (
            "{base} accepts {new} px at most: the lab counts at {new} px, not the selected {res} px.",
            "{base} 最多接受 {new} 像素：设计实验室按 {new} 像素计算，而不是所选的 {res} 像素。",
        ),
        "labcol_pw_act": ("pw act", "逐点激活 pw act"),
        "labhelp_pw_act": (
            "Depthwise separable rows: an activation after the pointwise conv too (MobileNetV1). Off: a linear pointwise conv (V2, V3).",
            "深度可分离卷积行：逐点卷积之后也加激活（MobileNetV1）。关闭：线性逐点卷积（V2、V3）。",
        ),
        "labcol_residual": ("residual", "残差 residual"),
        "labhelp_residual": (
            "Depthwise separable rows: add the input back when stride is 1 and the width is unchanged (V2, V3). MobileNetV1 has no residuals.",
            "深度可分离卷积行：步长为 1 且宽度不变时把输入加回（V2、V3）。MobileNetV1 没有残差连接。",
        ),
        "labcol_activation": ("activation", "激活函数 activation"),
        "labhelp_activation": (
            "relu, relu6, hswish…; empty = the generation's default.",
            "relu、relu6、hswish……；留空 = 该代的默认值。",
        ),
        "labcol_heads": ("heads", "头数 heads"),
        "labhelp_heads": ("Mobile MQA: number of query heads.", "Mobile MQA：查询头数。"),
        "labcol_key_dim": ("key_dim", "键维度 key_dim"),
        "labhelp_key_dim": (
            "Mobile MQA: key / value dimension per head.",
            "Mobile MQA：每个头的键 / 值维度。",
        ),
        "labcol_kv_stride": ("kv_stride", "键值步长 kv_stride"),
        "labhelp_kv_stride": (
            "Mobile MQA: stride of the key / value downsampling (1 or 2).",
            "Mobile MQA：键 / 值下采样的步长（1 或 2）。",
        ),
        "lab_chart_of": ("Per block", "每个模块的"),
        "lab_repeats_help": (
            "How many times the row's block is stacked (the papers' n): the first keeps the row's stride, the others use stride 1.",
            "该行模块堆叠的次数（论文中的 n）：第一个使用该行的步长，其余步长为 1。",
        ),
        "lab_against": (
            "Deltas against {model} at α {alpha:g}, {res} px (the sidebar's α and resolution).",
            "增量相对于 {model}（α {alpha:g}，{res} 像素，即侧边栏的 α 与分辨率）。",
        ),
        "lab_showing_valid": ("showing the last valid architecture", "显示的是上一个有效的结构"),
        "lab_save": ("Save as JSON", "保存为 JSON"),
        "lab_anatomy": ("Open its blocks in Block anatomy", "在模块剖析中查看其模块"),
        "lab_too_long": (
            "Too long to share in a link: save it as JSON instead.",
            "太长，无法放入链接：请保存为 JSON。",
        ),
        "lab_benchmark": ("Build and benchmark on this machine", "构建并在本机测速"),
        "lab_benchmarking": (
            "Building, timing the whole network and every layer…",
            "正在构建，并对整个网络和每一层计时……",
        ),
        "lab_time_vs_macs": (
            "Per block: share of the MACs against share of the measured time",
            "每个模块：MACs 占比与实测时间占比",
        ),
        "lab_time_vs_macs_note": (
            "Time of every layer measured inside real forward passes (eager PyTorch, BN folded, median of 10), summed per block. Where the red bar is taller than the grey one, the block costs more time than its MACs suggest: typically the early blocks on large maps, whose depthwise convolutions move many bytes per MAC.",
            "每一层的时间在真实前向传播中测得（PyTorch eager，已折叠 BN，10 次的中位数），按模块求和。红色柱高于灰色柱的模块，所耗时间超过其 MACs 所暗示的：通常是大特征图上的前几个模块，其深度卷积每个 MAC 要搬运许多字节。",
        ),
        "lab_latency": (
            "Built: {params:,} parameters; median latency {ms:.1f} ms (batch 1, {backend}).",
            "已构建：{params:,} 个参数；中位延迟 {ms:.1f} 毫秒（批大小 1，{backend}）。",
        ),
    }
)


STRINGS.update(
    {
        "page_tradeoffs": ("Trade-offs", "权衡分析"),
        "tradeoffs_intro": (
            "Sweep α × resolution for one or more models: exact MACs and parameters, published top-1 where the configuration was published, latency measured on this machine (fast path, batch 1), and the Pareto front.",
            "对一个或多个模型扫描 α × 分辨率：精确的 MACs 与参数量、已发表配置的 top-1、在本机测得的延迟（快速推理，批大小 1），以及帕累托前沿。",
        ),
        "sweep_x": ("Cost axis", "代价轴"),
        "latency": ("latency on this machine (ms)", "本机延迟（毫秒）"),
        "measure_latency": (
            "Measure latency of {n} configurations not measured yet",
            "测量尚未测量的 {n} 个配置的延迟",
        ),
        "measuring": ("Measuring latency…", "正在测量延迟……"),
        "measuring_progress": (
            "Measuring latency in the background: {done} of {total} configurations. You can keep using the app.",
            "正在后台测量延迟：已完成 {done} / {total} 个配置。您可以继续使用本应用。",
        ),
        "queued": (
            "Waiting for another measurement on this server to finish…",
            "等待本服务器上的另一项测量完成……",
        ),
        "cancel": ("Cancel", "取消"),
        "no_top1_in_sweep": (
            "None of these configurations has a published top-1, so the accuracy chart is empty; pick the paper values of α at the base resolution, or look at latency against MACs below.",
            "这些配置都没有公开的 top-1，因此精度图为空；请选择基准分辨率下论文中的 α 值，或查看下方的延迟与 MACs 对比。",
        ),
        "latency_vs_macs": (
            "Measured latency against MACs (every measured configuration)",
            "实测延迟与 MACs 的关系（所有已测配置）",
        ),
        "latency_vs_macs_note": (
            "If MACs predicted time, every point would lie on one line. Here one GMAC costs between {low:.1f} and {high:.1f} ms, depending on the architecture, width and resolution.",
            "如果 MACs 能预测时间，所有点都会落在一条直线上。此处每 GMAC 耗时在 {low:.1f} 到 {high:.1f} 毫秒之间，取决于结构、宽度与分辨率。",
        ),
        "measure_failed": ("The latency measurement stopped: {error}", "延迟测量已中止：{error}"),
        "latency_how": (
            "Latency measured for {measured} of {total} configurations on this machine: median of 15 runs after 3 warm-ups, batch 1, the fast path (BN folded, ONNX Runtime). Results are kept for this server and shared between sessions.",
            "已在本机测量 {measured} / {total} 个配置的延迟：预热 3 次后 15 次运行的中位数，批大小 1，快速路径（折叠 BN，ONNX Runtime）。结果在本服务器保留并在会话间共享。",
        ),
        "pareto": ("Pareto front", "帕累托前沿"),
    }
)


STRINGS.update(
    {
        "page_roofline": ("Roofline", "屋顶线模型"),
        "roofline_intro": (
            "Each layer placed by its arithmetic intensity (FLOPs per byte it moves) under this machine's measured compute and memory limits. Layers left of the ridge point are memory-bound: depthwise convolutions do little arithmetic per byte, so they take a larger share of the time than of the MACs.",
            "按算术强度（每移动一个字节所做的浮点运算）把每一层放在本机实测的计算与内存上限之下。位于脊点左侧的层受内存带宽限制：深度卷积每字节的运算很少，因此所占时间比例大于其 MACs 比例。",
        ),
        "remeasure": ("Measure this machine again", "重新测量本机"),
        "peak_compute": ("Peak compute (measured)", "峰值算力（实测）"),
        "peak_bandwidth": ("Memory bandwidth (measured)", "内存带宽（实测）"),
        "ridge": ("ridge point", "脊点"),
        "measured_how": ("How: {method}.", "测量方法：{method}。"),
        "roof": ("roof: min(peak, intensity × bandwidth)", "屋顶：min(峰值, 强度 × 带宽)"),
        "intensity": ("arithmetic intensity (FLOP / byte)", "算术强度（FLOP / 字节）"),
        "attainable": ("attainable GFLOP/s", "可达 GFLOP/s"),
        "axis_measured": ("achieved GFLOP/s (measured)", "实际 GFLOP/s（实测）"),
        "layer_kind": ("layer kind", "层类型"),
        "layers": ("layers", "层数"),
        "mac_share": ("share of MACs", "MACs 占比"),
        "time_share": ("share of estimated time", "估计时间占比"),
        "memory_bound": ("memory-bound", "受内存限制"),
        "roofline_note": (
            "Estimated time per layer = max(FLOPs / peak compute, bytes / bandwidth), with bytes = input + weights + output in float32 at batch 1 and no reuse between layers: a model of the argument. Measure every layer to see the real times next to it.",
            "每层估计时间 = max(FLOPs / 峰值算力, 字节数 / 带宽)，字节数为 float32、批大小 1 下的输入 + 权重 + 输出，且层间不复用：这是论证用的模型。逐层实测可以看到与之对照的真实时间。",
        ),
        "measure_layers": ("Measure every layer on this CPU", "在本机 CPU 上逐层实测"),
        "measuring_layers": ("Timing every layer in real forward passes…", "正在真实前向传播中逐层计时……"),
        "roofline_points_of": ("Place the layers by", "各层的纵坐标"),
        "points_estimated": ("estimated time (the roof)", "估计时间（屋顶）"),
        "points_measured": ("measured time (achieved GFLOP/s)", "实测时间（实际 GFLOP/s）"),
        "measured_time_share": ("share of measured time", "实测时间占比"),
        "measured_ms": ("measured ms", "实测毫秒"),
        "layers_how": (
            "Measured: {method}. The layers add up to {layers:.1f} ms of a {forward:.1f} ms pass ({coverage:.0%}); the rest is activations outside the layers, residual adds, pooling and the hooks themselves.",
            "实测方法：{method}。各层合计 {layers:.1f} 毫秒，整次前向 {forward:.1f} 毫秒（{coverage:.0%}）；其余为层外的激活、残差相加、池化以及计时钩子本身。",
        ),
        # device latency (the V4 paper's roofline model on phones)
        "device_latency": ("Estimated latency on a device", "在设备上的估计延迟"),
        "device_latency_intro": (
            "The MobileNetV4 paper's roofline model (arXiv:2404.10518, Eq. 1): each layer takes max(MACs / peak MACs per second, bytes / bandwidth), bytes = its weights and its input and output at the device's precision. Which layers are memory-bound depends on the device's ridge point (peak MACs / bandwidth).",
            "MobileNetV4 论文的屋顶线模型（arXiv:2404.10518，式 1）：每层耗时 = max(MACs / 每秒峰值 MACs, 字节数 / 带宽)，字节数为该层权重及输入、输出在设备精度下的大小。哪些层受内存限制取决于设备的脊点（峰值 MACs / 带宽）。",
        ),
        "device": ("Device", "设备"),
        "device_custom": ("a device you describe", "自定义设备"),
        "device_host": ("this machine (measured, float32)", "本机（实测，float32）"),
        "custom_peak": ("peak compute (G MAC/s)", "峰值算力（G MAC/s）"),
        "custom_bandwidth": ("memory bandwidth (GB/s)", "内存带宽（GB/s）"),
        "precision": ("precision", "精度"),
        "estimated_ms": ("estimated latency", "估计延迟"),
        "ridge_macs": ("ridge point", "脊点"),
        "memory_bound_time": ("time in memory-bound layers", "受内存限制层的时间"),
        "paper_measured": ("measured in the paper", "论文实测"),
        "not_in_paper": ("not measured in the paper", "论文未测"),
        "paper_failed": ("the paper: does not run on this device", "论文：无法在该设备上运行"),
        "device_block_chart": ("Estimated time per block on {device}", "各模块在 {device} 上的估计时间"),
        "compute_bound_ms": ("compute-bound layers (ms)", "受算力限制的层（毫秒）"),
        "memory_bound_ms": ("memory-bound layers (ms)", "受内存限制的层（毫秒）"),
        "all_devices": ("This configuration on every device of the paper", "当前配置在论文各设备上的表现"),
        "estimate_vs_paper": ("estimate / measured", "估计 / 实测"),
        "device_source": ("Device: {source}. {calibration}", "设备来源：{source}。{calibration}"),
        "device_model_note": (
            "A model, not a measurement: it leaves out fixed per-layer overheads, caches and the kernels' own efficiency. On the paper's CPUs it lands within about 20 % of the measured latencies; on the EdgeTPU and the DSP it is off by up to 2x for small models (see README).",
            "这是模型而非实测：未计入每层的固定开销、缓存以及内核本身的效率。在论文的 CPU 上与实测相差约 20% 以内；在 EdgeTPU 和 DSP 上，小模型可相差至 2 倍（见 README）。",
        ),
        "color_by": ("Colour the blocks by", "模块着色依据"),
        "color_block_type": ("block type", "模块类型"),
        "color_time": ("estimated time on a device", "设备上的估计时间"),
        "est_on": ("est. ms on {device}", "{device} 估计毫秒"),
        "compare_latency_note": (
            "Estimated latencies: the V4 paper's roofline model on its INT8 devices (ridge points from its Table 16, scale calibrated on MobileNetV2's measured latency, Table 6); in brackets, the paper's measurement where it has one.",
            "估计延迟：V4 论文的屋顶线模型，使用其 INT8 设备（脊点取自表 16，绝对尺度按 MobileNetV2 的实测延迟校准，表 6）；括号内为论文实测值（如有）。",
        ),
        "use_int8": ("INT8 (quantized)", "INT8（量化）"),
        "int8_help": (
            "Run an 8-bit integer copy of the network: weights per channel, activations calibrated on the bundled sample photos, with ONNX Runtime's quantization tools. Usually faster on CPUs; the classes can differ slightly from the float network.",
            "运行网络的 8 位整数副本：权重逐通道量化，激活范围在内置示例照片上校准（ONNX Runtime 量化工具）。在 CPU 上通常更快；类别可能与浮点网络略有不同。",
        ),
        "quantizing": ("Quantizing the network to INT8…", "正在把网络量化为 INT8……"),
        "int8_caption": (
            "INT8: static quantization, per-channel weights, activations calibrated on the bundled photos; the first conv and the classifier stay float. The latency in the chart is the INT8 network's.",
            "INT8：静态量化，权重逐通道，激活在内置照片上校准；第一层卷积和分类器保持浮点。图中的延迟为 INT8 网络的延迟。",
        ),
        "sweep_estimated": ("estimated latency on a device (ms)", "设备上的估计延迟（毫秒）"),
    }
)


# The words drawn inside the graphs and diagrams (keys of mobilenet_core.graph.WORDS).
GRAPH_WORDS_ZH = {
    "input": "输入",
    "output": "输出",
    "params": "参数",
    "skip": "跳连",
    "legend": "图例",
    "stem": "主干入口",
    "head": "分类头",
    "stage": "阶段",
    "activation": "激活函数",
    "linear": "线性：无激活",
    "tokens": "个词元",
    "depthwise": "深度卷积",
    "conv": "卷积",
    "stride": "步长",
    "se": "压缩-激励",
    "standard": "标准 {k}×{k} 卷积（形状相同）",
    "bottleneck": "ResNet 瓶颈残差（宽 → 窄 → 宽）",
    "wide": "宽",
    "reduce": "压缩",
    "expand": "扩展",
    "then_relu": "后接 ReLU",
    "of_time": "的时间",
    "none": "无",
    "time_legend": "估计时间占比",
}


def viewer_words() -> dict[str, str]:
    """The interactive graph's own words, in the current language."""
    return {key: t(f"viewer_{key}") for key in ("fit", "zoom_in", "zoom_out", "search", "found")}


def graph_words() -> dict | None:
    return GRAPH_WORDS_ZH if current_language() == "zh" else None
