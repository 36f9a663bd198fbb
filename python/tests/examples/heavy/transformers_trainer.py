"""Follows colabs/huggingface/Huggingface_wandb.ipynb and the docs page "Hugging Face
Transformers" (``report_to="wandb"``): a tiny BERT built from a ``BertConfig`` (no download) on a
random tokenized data set, trained and evaluated by ``Trainer`` with the W&B callback (project
from ``WANDB_PROJECT``, ``run_name``, ``logging_steps``, evaluation every epoch)."""

import os

import torch
from transformers import (BertConfig, BertForSequenceClassification, Trainer,
                          TrainingArguments)

os.environ["WANDB_PROJECT"] = "hf-tiny-bert"
os.environ["WANDB_LOG_MODEL"] = "false"


class RandomTokens(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(5, 100, (n, 12), generator=g)
        self.labels = torch.randint(0, 2, (n,), generator=g)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(12, dtype=torch.long),
                "labels": self.labels[i]}


torch.manual_seed(0)
config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=37, max_position_embeddings=32, num_labels=2)
model = BertForSequenceClassification(config)
args = TrainingArguments(output_dir="out", report_to="wandb", run_name="tiny-bert",
                         num_train_epochs=2, per_device_train_batch_size=8,
                         per_device_eval_batch_size=8, logging_steps=2, eval_strategy="epoch",
                         save_strategy="no", use_cpu=True, seed=0, disable_tqdm=True)
trainer = Trainer(model=model, args=args, train_dataset=RandomTokens(32, 1),
                  eval_dataset=RandomTokens(16, 2))
trainer.train()
trainer.evaluate()
