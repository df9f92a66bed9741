"""Synthetic images for rare classes: a small class-conditional DCGAN (``foveal synthesize``).

``models`` (generator / discriminator), ``data`` (real images of the training split), ``loop`` (the
adversarial training loop with checkpoints, resume and signals), ``generator`` (the saved generator
file and sampling), ``quality`` (HOG Fréchet distance, real-trained judge), ``outputs`` (PNGs,
manifest, grid, summary) and ``run`` (one command's life). Samples are always written apart from the
user's data and marked ``origin=synthetic``; merging them into training is the user's explicit step.
"""
