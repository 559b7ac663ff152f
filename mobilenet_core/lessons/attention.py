"""V4's Mobile MQA (arXiv:2404.10518, Section 3.3): one shared key/value head, downsampled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..count import BlockRow
from ..layers import MultiQueryAttention2d
from ..modules import MobileNet
from . import Lesson
from .blocks import (
    block_input,
    block_module,
    has_attention,
)

LESSON = Lesson(
    __name__, "V4", 2024, "arXiv:2404.10518", position=2, needs=has_attention, fallback="v4_hybrid_medium"
)


@dataclass(frozen=True)
class AttentionCost:
    """One attention block counted two ways: multi-head (every head its own K and V, full
    resolution) and the block's Mobile MQA (one shared K/V head, K/V downsampled by kv_stride)."""

    channels: int
    heads: int
    key_dim: int
    queries: int  # N = H W
    kv_positions_mha: int  # N
    kv_positions_mqa: int  # M = (H / s)(W / s)
    kv_stride: int
    mha_macs: int
    mqa_macs: int  # the counter's for the block's attention
    mha_kv_values: int  # K and V elements held for the products
    mqa_kv_values: int


def attention_cost(block: BlockRow, heads: int, key_dim: int, kv_stride: int) -> AttentionCost:
    c, h, w = block.in_channels, block.in_height, block.in_width
    n = h * w
    key = next((x for x in block.layers if x.name.endswith("attn.key.proj")), None)
    m = key.out_height * key.out_width if key is not None else n
    hd = heads * key_dim
    mha = n * c * hd * 3 + heads * n * n * key_dim * 2 + n * hd * c  # q, k, v projections, 2 products, output
    mqa = sum(x.macs for x in block.layers)
    return AttentionCost(
        c, heads, key_dim, n, n, m, kv_stride, mha, mqa, 2 * heads * n * key_dim, 2 * m * key_dim
    )


@torch.no_grad()
def attention_maps(module: MobileNet, x: torch.Tensor, block: str) -> np.ndarray:
    """Softmax attention weights of every query of the block's input, per head, over the
    downsampled K/V grid: H x W x heads x H_kv x W_kv, from one pass to the block (a lesson's
    query sliders then read a map instead of running the network again). Each head's weights
    sum to 1."""
    blk = block_module(module, block)
    attn: MultiQueryAttention2d = blk.attn
    h = blk.norm(block_input(module, x[:1], block))  # the first image of a batch
    _, _, height, width = h.shape
    q = attn.query(h).reshape(1, attn.heads, attn.key_dim, height * width)[0]  # heads x d x N
    kmap = attn.key(h)  # 1 x d x Hk x Wk
    hk, wk = kmap.shape[2:]
    k = kmap.flatten(2)[0]  # d x M
    queries = q.permute(2, 0, 1)  # N x heads x d
    weights = ((queries * attn.key_dim**-0.5) @ k).softmax(dim=-1)  # N x heads x M
    return weights.reshape(height, width, attn.heads, hk, wk).numpy()


def attention_map(module: MobileNet, x: torch.Tensor, block: str, row: int, col: int) -> np.ndarray:
    """Softmax attention weights of the query at (row, col) of the block's input, per head,
    over the downsampled K/V grid: heads x H_kv x W_kv. Each head's weights sum to 1."""
    return attention_maps(module, x, block)[row, col].copy()
