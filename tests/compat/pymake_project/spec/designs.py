"""The seed's designs of experiments (import line adapted), and small ones to run."""

from runlab.compat.pymake import ExpDesign, ExpGroup, ExpSpace, ExpTensor


class MyDesign(ExpDesign):
    exp1 = ExpSpace(name = 'myexpe',
        size = 42,
        key1 = 100,
        key2 = 'johndoe',
        _format = '{name}-{size}-{key1}_{key2}'
    )  # fmt: skip

    exp2 = ExpTensor(name = 'myexpe',
        size = [42, 100],
        key1 = list(range(20, 1000)),
        key2 = 'johndoe',
        _format = '{name}-{size}-{key1}_{key2}'
    )  # fmt: skip

    exp3 = ExpGroup([exp1, exp2])


class Small(ExpDesign):
    small = ExpTensor(
        name="myexpe", size=[42, 100], key1=[20, 30], key2="johndoe",
        _format="{name}-{size}-{key1}_{key2}",
    )  # fmt: skip
    both = ExpGroup([MyDesign.exp1, small])
    numbered = ExpTensor(lr=[0.1, 0.001, 1e-05, 2.0], _format="${name}-{_id}-{lr}")
    binds = ExpTensor(
        opt=["sgd", "adam"], lr=[0.1, 0.01], _bind=["sgd.lr.0.01", "adam.lr.!0.01"],
        _refdir="binds", _repeat=[0, 1], _format="{opt}-{lr}",
    )  # fmt: skip


class Models(ExpDesign):
    learn = ExpTensor(model="Counter", K=[2, 3], _refdir="models", _format="{model}-{K}")
    scaled = ExpSpace(model="counter.Scaled", alpha=0.5, _refdir="models", _format="scaled")
    kept = ExpSpace(model="Counter", K=5, _write=True, _refdir="models", _format="kept")
