"""A panel's layer names: shortened one way for every row, keeping what tells layers apart, and
repeated blocks found for folding."""

from vgrad.core.view.names import NAME_LIMIT, block_of, fold_groups, short_names


def test_short_names_stay_as_they_are():
    assert short_names(("0", "2", "4")) == ("0", "2", "4")
    assert short_names(("h1", "h2")) == ("h1", "h2")


def test_long_names_lose_the_shared_prefix_then_words_to_initials_keeping_the_block_number():
    names = [f"model.encoder.layers.{i}.mlp.fc1" for i in range(12)]
    shown = short_names(names)
    assert shown[0] == "l.0.mlp.fc1" and shown[11] == "l.11.mlp.fc1"
    assert len(set(shown)) == 12 and all(len(name) <= NAME_LIMIT for name in shown)


def test_every_name_is_shortened_the_same_way():
    """`h.0…` and `h.10…` alike, never one cut from the left and one not."""
    names = [f"transformer.h.{i}.attn.c_attn" for i in range(12)] + ["lm_head"]
    shown = short_names(names)
    assert {name.split(".")[0] for name in shown[:-1]} == {"h"} and shown[-1] == "lm_head"


def test_blocks_fold_by_their_first_number():
    assert block_of("layers.11.mlp.fc1") == "layers.11" and block_of("h.3.attn") == "h.3"
    assert block_of("lm_head") is None and block_of("0") is None
    groups = fold_groups(["wte", "h.0.a", "h.0.b", "h.1.a", "lm_head"])
    assert groups == (("wte", (0,)), ("h.0", (1, 2)), ("h.1", (3,)), ("lm_head", (4,)))


def test_names_that_end_alike_are_never_shown_alike():
    """A Llama's `layers.0.post_attention_layernorm` and `layers.1.…` (and `input_layernorm`) are
    cut in the middle of their last word, keeping the block number: never one shown name for two."""
    names = ["model.embed_tokens", "lm_head"] + [f"model.layers.{i}.{part}" for i in range(12) for part in
                                                 ("self_attn.q_proj", "mlp.gate_proj", "input_layernorm",
                                                  "post_attention_layernorm")]
    shown = short_names(names)
    assert len(set(shown)) == len(names) and all(len(name) <= NAME_LIMIT for name in shown)
    assert shown[names.index("model.layers.3.input_layernorm")] == "m.l.3.inp…norm"


def test_names_that_still_coincide_are_numbered():
    names = ["a" * 30 + f".{x}" + "b" * 30 for x in "xy"]   # alike at both ends, past any cut
    shown = short_names(names)
    assert len(set(shown)) == 2 and all(len(name) <= NAME_LIMIT for name in shown)
