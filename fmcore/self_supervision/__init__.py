"""Self-supervision (slides: paradigms and pretext tasks): pseudolabels made from the data.

The recipe of the course slides, the same in every domain (that is what "domain-agnostic"
means here):

1. **Pseudolabels.** From an unlabelled x, a program makes an input x' and a target z, e.g.
   x' = x rotated by k * 90 degrees and z = k. No person labels anything.
2. **Pretraining.** The model ``k_gamma(h_theta(x'))`` (a feature extractor h_theta and a
   small output module k_gamma) is trained to predict z from x'.
3. **Transfer.** k_gamma is thrown away; the learned h_theta* is kept and a *new* output
   module g_phi is put on top of it for the downstream task, which has real labels
   (:func:`.loop.transfer`). Here g_phi is fitted on a few labelled examples per class with
   h_theta* frozen, and compared with the same g_phi on a *random* h_theta.

Domains, their data, pretext tasks and downstream tasks:

=============  ================================  ========================  ================
domain         x                                 pretext tasks             downstream task
=============  ================================  ========================  ================
images         Shapes (N, 3, S, S), [0, 1]       rotation, jigsaw          shape class (10)
text           sentences, char ids (N, T)        masked_char, next_char    topic (4)
timeseries     signals (N, L) float              masked_feature            waveform (4)
=============  ================================  ========================  ================

Each pseudolabel generator is a pure function ``(x, generator) -> PretextBatch``
(:mod:`.pseudolabels`; the models h/k/g in :mod:`.models`); the loop
:func:`.loop.pretrain_pretext` draws fresh pseudolabels for every batch (like fresh
augmentations in SimCLR) and yields typed events (rule 3 of DESIGN.md), as
:func:`fmcore.vision.pretrain.pretrain_simclr` does. All randomness comes from a
``torch.Generator`` (rule 4).
"""
