"""A tiny randomly initialised BERT and RoBERTa over the toy corpus's vocabulary, built locally
(no download)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from datasets import Dataset

import fixtures
from fixtures import TOY_WORDS


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with a 2-layer, 32-wide random BERT and its WordPiece tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TOY_WORDS]
    tokenizer = BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)})
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)  # a fixed random init, so the tests see the same network every session
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def toy_split() -> Callable[..., Dataset]:
    """``toy_split(n, seed, with_target=True, long_every=0)`` builds a labelled toy split."""
    return fixtures.toy_split


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run the tiny networks on one thread: for 32-wide layers, syncing threads costs more than
    it saves (the tests in this folder took 148 s instead of 33 s on a busy machine, 285a0ae)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder with a 2-layer random RoBERTa and a byte-level BPE tokenizer (no token_type_ids)."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-roberta")
    bpe = ByteLevelBPETokenizer()
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator([" ".join(TOY_WORDS)] * 20, vocab_size=300, special_tokens=special)
    bpe.save_model(str(folder))
    # transformers 5 takes the vocabulary and merges themselves (a `vocab_file=` is ignored and
    # leaves a tokenizer that knows only the special tokens, encoding every text as empty)
    merges = (folder / "merges.txt").read_text().splitlines()
    tokenizer = RobertaTokenizerFast(
        vocab=json.loads((folder / "vocab.json").read_text()),
        merges=[tuple(line.split()) for line in merges if line and not line.startswith("#")],
    )
    assert len(tokenizer.tokenize("the tax policy")) > 1
    config = RobertaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=140,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
    )
    torch.manual_seed(0)
    RobertaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
