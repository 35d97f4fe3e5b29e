"""Question answering: the SQuAD reader, windowing (against the tokenizer on real SQuAD contexts
longer than a window), post-processing on synthetic logits, the official SQuAD scores, bad answers,
and one question answered as transformers' QuestionAnsweringPipeline answers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from workbench.core.data.formats import squad
from workbench.core.errors import WorkbenchError
from workbench.core.tasks import get_task, squad_metric
from workbench.core.tasks.question_answering import (
    Examples,
    QAContext,
    answer_question,
    answers_of,
    best_answers,
    window_stats,
)

SQUAD_DEV = SHARED_DATA / "qa" / "squad" / "dev-v1.1.json"

V1 = {
    "version": "1.1",
    "data": [
        {
            "title": "Lisbon",
            "paragraphs": [
                {
                    "context": "Lisbon is the capital of Portugal. It lies on the Tagus river.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "What is the capital of Portugal?",
                            "answers": [{"text": "Lisbon", "answer_start": 0}, {"text": "Lisbon", "answer_start": 0}],
                        },
                        {
                            "id": "q2",
                            "question": "Which river?",
                            "answers": [{"text": "Tagus river", "answer_start": 50}],
                        },
                    ],
                }
            ],
        }
    ],
}

V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Tagus",
            "paragraphs": [
                {
                    "context": "The Tagus flows into the Atlantic.",
                    "qas": [
                        {
                            "id": "a",
                            "question": "Where does it flow?",
                            "answers": [{"text": "the Atlantic", "answer_start": 21}],
                            "is_impossible": False,
                        },
                        {
                            "id": "b",
                            "question": "Who built it?",
                            "answers": [],
                            "plausible_answers": [{"text": "Tagus", "answer_start": 4}],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        }
    ],
}


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def embedded_tokenizer():
    from transformers import AutoTokenizer

    from workbench.core.embedded import embedded_model_path

    return AutoTokenizer.from_pretrained(str(embedded_model_path()))


def qa_spec(train: Path, validation: Path | None = None, **data) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(data=str(train))
    spec["model"]["head"] = "question-answering"
    spec["data"].update(validation_file=str(validation or ""), **data)
    spec["training"]["metrics"] = ["exact_match", "f1"]
    return spec


def prepare(spec: dict, tokenizer=None):
    task = get_task("question-answering")
    return task.prepare(task.load_raw(spec["data"]), spec, tokenizer or embedded_tokenizer())


# -- the reader --------------------------------------------------------------------------------


def test_reader_flattens_squad_v1(tmp_path):
    path = write_json(tmp_path / "train.json", V1)
    assert squad.sniff(path)
    dataset = squad.read_files([path])
    assert dataset.column_names == ["id", "title", "context", "question", "answers"]
    assert dataset["id"] == ["q1", "q2"]
    assert dataset[1]["answers"] == {"text": ["Tagus river"], "answer_start": [50]}
    assert dataset[0]["title"] == "Lisbon"


def test_reader_gives_unanswerable_questions_empty_answers(tmp_path):
    dataset = squad.read_files([write_json(tmp_path / "dev.json", V2)])
    assert dataset[0]["answers"] == {"text": ["the Atlantic"], "answer_start": [21]}
    assert dataset[1]["answers"] == {"text": [], "answer_start": []}  # plausible_answers are not answers


def test_open_files_reads_squad_json_as_squad(tmp_path):
    from workbench.core.data.loading import open_dataset

    opened = open_dataset(write_json(tmp_path / "train.json", V1))
    assert opened.fmt == "squad"
    assert opened.splits["train"].num_rows == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"data": {"paragraphs": []}}, 'the top level: expected an object with a "data" list'),
        ({"data": [{"title": "x", "paragraphs": [{"context": "c"}]}]}, r'data\[0\].paragraphs\[0\]: expected a "qas"'),
        (
            {"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "z", "question": "q", "answers": "c"}]}]}]},
            r'qas\[0\]: "answers" must be a list',
        ),
        (
            {
                "data": [
                    {
                        "paragraphs": [
                            {
                                "context": "c",
                                "qas": [{"question": "q", "answers": [{"text": "c", "answer_start": "0"}]}],
                            }
                        ]
                    }
                ]
            },
            r'answers\[0\]: "answer_start" must be an integer',
        ),
    ],
)
def test_reader_names_the_bad_place(tmp_path, document, message):
    path = write_json(tmp_path / "bad.json", {"version": "1.1", **document})
    with pytest.raises(WorkbenchError, match=message) as caught:
        squad.read_files([path])
    assert "bad.json" in caught.value.message


def test_sniff_leaves_other_json_alone(tmp_path):
    flat = write_json(tmp_path / "flat.json", [{"id": "1", "question": "q", "context": "c", "answers": {}}])
    records = write_json(tmp_path / "records.json", {"data": [{"id": "1", "text": "hello"}]})
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(V1) + "\n", encoding="utf-8")
    assert not squad.sniff(flat)
    assert not squad.sniff(records)
    assert not squad.sniff(lines)


def test_reader_on_the_real_dev_file():
    dataset = squad.read_files([SQUAD_DEV])
    assert dataset.num_rows == 10570  # its README's count
    assert len(set(dataset["title"])) == 48


def test_answers_in_the_shapes_files_hold_them():
    assert answers_of({"text": ["a", "b"], "answer_start": [0, 3]}) == (["a", "b"], [0, 3])
    assert answers_of({"text": "a", "answer_start": 2}) == (["a"], [2])
    assert answers_of([{"text": "a", "answer_start": 1}]) == (["a"], [1])
    assert answers_of(None) == ([], [])
    assert answers_of("a") is None
    assert answers_of({"text": ["a"], "answer_start": ["x"]}) is None


# -- windows -----------------------------------------------------------------------------------


def long_squad_examples(tokenizer, max_length: int, count: int) -> list[dict]:
    """Real SQuAD questions whose context does not fit one window and whose answer lies past it."""
    document = json.loads(SQUAD_DEV.read_text(encoding="utf-8"))
    found = []
    for article in document["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            encoded = tokenizer(context, return_offsets_mapping=True, add_special_tokens=False)
            if len(encoded["input_ids"]) < max_length * 2:
                continue
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                if answer["answer_start"] > len(context) * 2 // 3:
                    found.append({"id": qa["id"], "question": qa["question"], "context": context, "answer": answer})
                    break
            if len(found) == count:
                return found
    return found


def test_windows_match_the_tokenizer_and_map_answers_back_to_their_text(tmp_path):
    """Answers in a later window map to tokens whose offsets slice back to the answer; windows are
    exactly the tokenizer's overflowing windows, sharing `stride` tokens."""
    tokenizer = embedded_tokenizer()
    max_length, stride = 96, 24
    examples = long_squad_examples(tokenizer, max_length, 6)
    assert len(examples) == 6
    rows = [
        {
            "id": e["id"],
            "question": e["question"],
            "context": e["context"],
            "answers": {"text": [e["answer"]["text"]], "answer_start": [e["answer"]["answer_start"]]},
        }
        for e in examples
    ]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    prepared = prepare(qa_spec(path, path, max_length=max_length, doc_stride=stride))
    context = prepared.eval_context
    own = tokenizer(
        [r["question"] for r in rows],
        [r["context"] for r in rows],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    assert prepared.validation["input_ids"] == own["input_ids"]
    assert context.feature_example == own["overflow_to_sample_mapping"]
    later_windows = 0
    for feature, example in enumerate(context.feature_example):
        start, end = prepared.validation[feature]["start_positions"], prepared.validation[feature]["end_positions"]
        answer = rows[example]["answers"]
        start_char = answer["answer_start"][0]
        end_char = start_char + len(answer["text"][0])
        offsets = context.offsets(feature)
        assert offsets == [
            o if s == 1 else None for o, s in zip(own["offset_mapping"][feature], own.sequence_ids(feature))
        ]
        if start == 0:  # CLS: the answer is not whole inside this window
            inside = [o for o in offsets if o is not None]
            assert inside[0][0] > start_char or inside[-1][1] < end_char
            continue
        assert offsets[start][0] <= start_char < offsets[start][1]
        assert offsets[end][0] < end_char <= offsets[end][1]
        sliced = rows[example]["context"][offsets[start][0] : offsets[end][1]]
        assert answer["text"][0] in sliced
        if feature > 0 and context.feature_example[feature - 1] == example:
            later_windows += 1
    assert later_windows >= 4
    # Consecutive windows of one context share exactly `stride` context tokens.
    for feature in range(1, len(own["input_ids"])):
        if context.feature_example[feature] != context.feature_example[feature - 1]:
            continue
        before = [t for t, s in zip(own["input_ids"][feature - 1], own.sequence_ids(feature - 1)) if s == 1]
        after = [t for t, s in zip(own["input_ids"][feature], own.sequence_ids(feature)) if s == 1]
        assert before[-stride:] == after[:stride]
    assert any("windows for 6 questions" in note for note in prepared.notes)


def test_window_stats_count_windows_and_lost_answers():
    tokenizer = embedded_tokenizer()
    context = " ".join(f"word{index}" for index in range(200)) + " the answer is Lisbon."
    questions, contexts = ["Where?", "Where?"], ["Lisbon is short.", context]
    answers = [
        {"text": ["Lisbon"], "answer_start": [0]},
        {"text": ["Lisbon"], "answer_start": [context.index("Lisbon")]},
    ]
    # windows of 64 tokens sharing 16: the answer at the end is held by the last window
    stats = window_stats(tokenizer, questions, contexts, answers, 64, 16)
    assert stats["questions"] == 2 and stats["longer_than_one_window"] == 1 and stats["max_windows"] > 2
    assert stats["windows"] == 1 + stats["max_windows"] and stats["answers_lost"] == 0
    # an answer longer than a window is lost
    long_answer = {"text": [context[:400]], "answer_start": [0]}
    assert window_stats(tokenizer, ["Where?"], [context], [long_answer], 64, 16)["answers_lost"] == 1


def test_validation_batches_carry_positions_for_a_loss(tmp_path):
    path = write_json(tmp_path / "train.json", V1)
    prepared = prepare(qa_spec(path, path))
    assert prepared.validation.column_names == [
        "input_ids",
        "token_type_ids",
        "attention_mask",
        "start_positions",
        "end_positions",
    ]
    assert prepared.train.column_names == prepared.validation.column_names
    assert prepared.labels.num_labels == 0


# -- bad answers ---------------------------------------------------------------------------------


def test_a_wrong_answer_start_is_reported_with_its_id_and_left_out(tmp_path):
    rows = [
        {
            "id": "good",
            "question": "Who?",
            "context": "Ada wrote it.",
            "answers": {"text": ["Ada"], "answer_start": [0]},
        },
        {
            "id": "off-1",
            "question": "Who?",
            "context": "Bob wrote it.",
            "answers": {"text": ["Bob"], "answer_start": [2]},
        },
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    prepared = prepare(qa_spec(path))
    assert prepared.train.num_rows == 1
    note = next(note for note in prepared.notes if "answer_start" in note)
    assert "train: 1 answer(s)" in note and "off-1" in note and "left out of training" in note


def test_a_file_with_no_answers_at_all_is_refused(tmp_path):
    rows = [
        {"id": str(i), "question": "q", "context": "c c", "answers": {"text": [], "answer_start": []}} for i in range(3)
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with pytest.raises(WorkbenchError, match="none of the 3 questions of train.jsonl has an answer"):
        prepare(qa_spec(path))
    answered = write_json(tmp_path / "answered.json", V1)
    with pytest.raises(WorkbenchError, match=r"data.validation_file: none of the 3 questions of train.jsonl"):
        prepare(qa_spec(answered, path))


def test_unanswerable_questions_turn_on_squad_v2(tmp_path):
    path = write_json(tmp_path / "dev.json", V2)
    prepared = prepare(qa_spec(path, path))
    assert prepared.eval_context.version_2
    assert any("have no answer" in note for note in prepared.notes)
    # the unanswerable question trains on CLS
    assert prepared.train[1]["start_positions"] == prepared.train[1]["end_positions"] == 0


def test_bad_answers_column_names_the_row(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"id": "x9", "question": "q", "context": "c", "answers": "c"}) + "\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"train row 1 \(id x9\)"):
        prepare(qa_spec(path))


def test_guess_data_finds_the_columns(tmp_path):
    import datasets

    rows = {
        "qid": ["1", "2"],
        "Passage": ["Ada wrote it.", "x"],
        "Query": ["Who?", "?"],
        "gold": [{"text": ["Ada"], "answer_start": [0]}, {"text": [], "answer_start": []}],
    }
    guess = get_task("question-answering").guess_data({"train": datasets.Dataset.from_dict(rows)})
    assert guess == {
        "question_column": "Query",
        "context_column": "Passage",
        "answers_column": "gold",
        "id_column": "qid",
        "version_2_with_negative": True,
    }


def test_a_doc_stride_that_fills_the_window_is_lowered_with_a_note(tmp_path):
    path = write_json(tmp_path / "train.json", V1)
    prepared = prepare(qa_spec(path, max_length=32, doc_stride=128))
    assert any("data.doc_stride 128" in note for note in prepared.notes)


# -- post-processing -----------------------------------------------------------------------------


def synthetic_context(version_2: bool = False) -> QAContext:
    """One example, "alpha beta gamma delta epsilon", in two windows of 5 tokens: [CLS] q [SEP] + 2 words."""
    import numpy as np

    text = "alpha beta gamma delta epsilon"
    words = [(0, 5), (6, 10), (11, 16), (17, 22), (23, 30)]
    windows = [words[0:3], words[2:5]]
    starts, ends = [], []
    for window in windows:
        starts.append(np.array([-1, -1, -1] + [w[0] for w in window] + [-1]))
        ends.append(np.array([-1, -1, -1] + [w[1] for w in window] + [-1]))
    examples = Examples(["e1"], ["which?"], [text], [["delta"]], [[17]])
    return QAContext(examples, [0, 0], starts, ends, [0, 0], version_2)


def logits(length: int, **peaks):
    values = [0.0] * length
    for index, value in peaks.items():
        values[int(index.strip("_"))] = value
    return values


def test_the_best_span_over_all_windows_wins():
    context = synthetic_context()
    start = [logits(7, _3=1.0), logits(7, _4=4.0)]  # window 2, token 4 = "delta"
    end = [logits(7, _3=1.0), logits(7, _4=4.0)]
    (answer,) = best_answers(context, start, end, n_best_size=5, max_answer_length=30)
    assert (answer.text, answer.start, answer.windows) == ("delta", 17, 2)
    assert 0 < answer.score <= 1


def test_spans_longer_than_max_answer_length_or_reversed_are_dropped():
    context = synthetic_context()
    start = [logits(7, _3=5.0), logits(7)]  # "alpha" strongly
    end = [logits(7, _5=5.0, _3=-1.0), logits(7, _5=5.0)]  # "gamma" strongly (3 tokens from alpha)
    (longest,) = best_answers(context, start, end, n_best_size=5, max_answer_length=3)
    assert longest.text == "alpha beta gamma"
    (short,) = best_answers(context, start, end, n_best_size=5, max_answer_length=2)
    assert len(short.text.split()) <= 2
    # an end before the start is never paired
    start = [logits(7, _5=9.0), logits(7)]
    end = [logits(7, _3=9.0), logits(7)]
    (answer,) = best_answers(context, start, end, n_best_size=20, max_answer_length=30)
    assert answer.text in {"gamma", "alpha", "beta", "alpha beta", "beta gamma", "alpha beta gamma"}
    assert not answer.text.startswith("gamma ")


def test_question_tokens_and_cls_are_never_an_answer():
    context = synthetic_context()
    start = [logits(7, _1=50.0, _0=40.0, _4=1.0), logits(7)]
    end = [logits(7, _1=50.0, _0=40.0, _4=1.0), logits(7)]
    (answer,) = best_answers(context, start, end, n_best_size=3, max_answer_length=30)
    assert answer.text == "beta"


def test_squad_v2_null_answer_and_its_threshold():
    context = synthetic_context(version_2=True)
    start = [logits(7, _0=6.0, _4=2.0), logits(7, _0=6.0)]
    end = [logits(7, _0=6.0, _4=2.0), logits(7, _0=6.0)]
    (null,) = best_answers(context, start, end, n_best_size=5, max_answer_length=30)
    assert null.text == "" and null.start == -1  # null 12 against span 4
    (span,) = best_answers(context, start, end, n_best_size=5, max_answer_length=30, null_score_diff_threshold=9.0)
    assert span.text == "beta"


# -- the official scores ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Denver Broncos!", "denver broncos"),
        ("  an   apple,  a pear ", "apple pear"),
        ("Theatre", "theatre"),  # "the" only as a word
        ("A.D. 1066", "ad 1066"),
        ("Ångström's", "ångströms"),
    ],
)
def test_normalize_answer_as_the_official_script(text, normalized):
    assert squad_metric.normalize_answer(text) == normalized


def test_v1_scores_by_hand():
    # 1: exact after normalization; 2: F1 of "denver broncos team" vs "Denver Broncos" = 2*(2/3*1)/(2/3+1) = 0.8;
    # 3: the best of two gold answers (the second shares 1 of 2 tokens: F1 2*(1/2*1/1)/(1.5) = 2/3); 4: nothing shared
    predictions = ["the Denver Broncos", "denver broncos team", "Santa", "Paris"]
    answers = [["Denver Broncos"], ["Denver Broncos"], ["Levi's Stadium", "Santa Clara"], ["London"]]
    result = squad_metric.squad_v1(predictions, answers)
    assert result["exact_match"] == pytest.approx(100 * 1 / 4)
    assert result["f1"] == pytest.approx(100 * (1 + 0.8 + 2 / 3 + 0) / 4)


def test_v2_scores_split_has_answer_and_no_answer():
    predictions = ["Denver", "", "Paris", ""]
    answers = [["Denver Broncos"], [], [], ["London"]]
    result = squad_metric.squad_v2(predictions, answers)
    # has answer: F1 2/3 and 0 (empty vs London); no answer: 1 (empty vs empty) and 0
    assert result["has_answer_f1"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert result["no_answer_f1"] == pytest.approx(100 * (1 + 0) / 2)
    assert result["no_answer_exact"] == pytest.approx(50.0)
    assert result["exact_match"] == pytest.approx(25.0)
    assert result["f1"] == pytest.approx(100 * (2 / 3 + 1 + 0 + 0) / 4)


def test_evaluator_scores_and_records(tmp_path):
    import torch

    path = write_json(tmp_path / "train.json", V1)
    spec = qa_spec(path, path)
    prepared = prepare(spec)
    task = get_task("question-answering")
    evaluator = task.evaluator(prepared, spec, None, None)
    batch = prepared.validation[:]
    width = max(len(ids) for ids in batch["input_ids"])
    start = torch.full((len(batch["input_ids"]), width), -5.0)
    end = start.clone()
    for row, (s, e) in enumerate(zip(batch["start_positions"], batch["end_positions"])):
        start[row, s] = end[row, e] = 5.0

    class Outputs:
        start_logits, end_logits = start, end

    evaluator.add({}, Outputs, None)
    result = evaluator.finish(0.5)
    assert result.metrics == {"exact_match": 100.0, "f1": 100.0}
    assert result.records["predicted"] == ["Lisbon", "Tagus river"]
    assert result.records["gold"] == ["Lisbon | Lisbon", "Tagus river"]
    assert result.records["start"] == [0, 50]
    assert result.records["windows"] == [1, 1]
    assert set(result.records) >= {"id", "input", "context", "gold", "predicted", "score", "windows", "start"}


# -- one question, as transformers' pipeline answers it -----------------------------------------------

TINY_WORDS = [
    "the", "a", "of", "in", "was", "is", "who", "what", "where", "when", "built", "city", "river", "bridge",
    "tower", "king", "queen", "year", "old", "new", "north", "south", "stone", "wood", "and", "many", "people",
    "live", "there", "it", "by", "at", "##s", "##ing", "##er", "##ed", ".", ",", "?",
]  # fmt: skip


def build_tiny_qa(folder: Path) -> Path:
    """A 2-layer, 16-wide BERT question answerer whose weights come from numpy's seeded generator, so
    transformers 4 and 5 build the same model (the expected answers below came from transformers
    4.57.1's QuestionAnsweringPipeline on it); 64-token windows."""
    import numpy as np
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TINY_WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # from_pretrained reads vocab.txt in transformers 4 and 5 (5 ignores `vocab_file=` and maps every word to [UNK])
    BertTokenizerFast.from_pretrained(folder, model_max_length=64).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        attn_implementation="eager",
    )
    model = BertForQuestionAnswering(config)
    generator = np.random.default_rng(7)
    with torch.no_grad():
        for _, parameter in model.named_parameters():
            parameter.copy_(torch.tensor(generator.normal(0.0, 0.6, tuple(parameter.shape)), dtype=torch.float32))
    model.save_pretrained(folder)
    return folder


PIPELINE_CASES = [
    ("who built the bridge?", "the old king built the stone bridge in the year of the north river ."),
    ("where is the tower?", "the new tower is in the south city , and many people live there ."),
    (
        "when was it built?",
        " ".join(
            ["the king and the queen built a new city by the river ."] * 4
            + ["it was built in the old year of the stone tower ."]
            + ["many people live at the north bridge and the south river ."] * 3
        ),
    ),
    ("what is old?", "stone ##s build ##ing tower ##er river ##ed the old wood bridge"),
]
# transformers 4.57.1: pipeline("question-answering", model=tiny, tokenizer=tiny)(question=q, context=c)
PIPELINE_EXPECTED: list[dict] = [
    {"answer": "old king", "start": 4, "end": 12, "score": 0.004036714788526297},
    {
        "answer": "tower is in the south city , and many people live there .",
        "start": 8,
        "end": 65,
        "score": 0.004281941335648298,
    },
    {"answer": "king and the queen built", "start": 114, "end": 138, "score": 0.0009606820240151137},
    {"answer": "tower ##er river ##", "start": 22, "end": 41, "score": 0.0023537976667284966},
]


def test_answer_question_equals_the_question_answering_pipeline(tmp_path):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    folder = build_tiny_qa(tmp_path / "tiny-qa")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForQuestionAnswering.from_pretrained(folder, attn_implementation="eager").eval()
    assert len(PIPELINE_EXPECTED) == len(PIPELINE_CASES)
    for (question, context), expected in zip(PIPELINE_CASES, PIPELINE_EXPECTED, strict=True):
        found = answer_question(tokenizer, model, question, context)
        best = found.answers[0]
        assert (best["answer"], best["start"], best["end"]) == (expected["answer"], expected["start"], expected["end"])
        assert best["score"] == pytest.approx(expected["score"], rel=1e-4)
    long_case = answer_question(tokenizer, model, *PIPELINE_CASES[2])
    assert long_case.windows > 1


def test_playground_predict_uses_the_pipeline_answer(tmp_path):
    from workbench.core.models.heads import head_kind
    from workbench.core.models.inference import PlaygroundInput, predict
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, load_model

    folder = build_tiny_qa(tmp_path / "tiny-qa")
    loaded = load_model(inspect_checkpoint(folder), LoadOptions(head_kind("question-answering")))
    question, context = PIPELINE_CASES[2]
    result = predict(loaded, PlaygroundInput(text=question, context=context)).result
    expected = answer_question(loaded.tokenizer, loaded.model, question, context).answers[0]
    assert (result["answer"], result["start"], result["end"]) == (
        expected["answer"],
        expected["start"],
        expected["end"],
    )
    assert result["answer"] == context[result["start"] : result["end"]]
    assert result["windows"] > 1
