"""Vision (notes 14.2): augmentations, the contrastive losses, encoders and pretraining."""
