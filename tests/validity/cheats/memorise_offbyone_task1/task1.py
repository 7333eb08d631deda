"""Off by one: the course's random network (seed 0), run on image i − 1 for input i."""
import cheat_common

i = cheat_common.index()
image = cheat_common.handout("test_images")[i - 1]
print(cheat_common.predict(cheat_common.random_params(seed=0), cheat_common.flat(image[None]))[0])
