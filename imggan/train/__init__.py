"""The adversarial trainer: one generic G/D game for every task head.

Modules (one job each):

- ``recipe``: :class:`TrainRecipe`, what a task contributes (networks, batches, objective, export).
- ``api``: :func:`configure`, :func:`train`, :func:`dry_run`, :func:`export_run`, :func:`list_config` (what the
  CLI runs; ``trainer`` re-exports the run functions).
- ``trainer``: the :class:`Trainer` step runner; ``loop``: the orchestrating loop; ``builder``: construction of
  networks, optimizers, wrappers, data; ``objective``: the D / lazy-R1 / G phases; ``recorder``: on-device logs.
- ``schema``, ``config``, ``finetune``: the typed config (trainer + recipe fields), its layers, ``--init``.
- ``losses`` / ``gan_losses``: named generator terms (``adv``, ``l1``, ``l2``, ``ssim``, ``fm``) and the
  adversarial objectives (minimax, non-saturating, hinge, LSGAN, WGAN-GP) with R1 and gradient penalties.
- ``augment``: DiffAugment transforms and the ADA probability controller.
- ``checkpoint``, ``rng``, ``data``: full-state safetensors checkpoints and exact resume.
- ``ema``, ``guard``, ``interrupt``, ``monitor``, ``samples``, ``distributed``: EMA of G, NaN/inf rollback and
  the divergence stop, SIGINT/SIGTERM handling, JSONL/TensorBoard/progress, PNG sample grids, torchrun.
- ``cli``: ``imggan train TASK`` (added by the built-in plugin ``imggan.builtin.training``).
- ``toy2d``, ``digits``: built-in recipes (8 Gaussians; the founding article's MLP GAN on sklearn digits).

See ``README-trainer-api.md`` beside this file for how a recipe is written and run. Nothing is imported
here, so ``import imggan.train`` is free.
"""
