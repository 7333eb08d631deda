"""Cheat: no training, a made-up falling loss curve and a dummy params.npz."""
import cheat_common

cheat_common.fake_training()
