"""Shared layers: blocks, generators (U-Net, ResNet, DCGAN, MLP) and discriminators (PatchGAN, DCGAN, MLP).

Import from the submodules (``imggan.nn.discriminator``, ``imggan.nn.generator``, ...); this package imports
nothing so ``import imggan.nn`` stays free.
"""
