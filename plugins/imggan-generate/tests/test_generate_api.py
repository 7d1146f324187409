"""The Python API: seeds, interpolation, exploration, labels."""

import numpy as np
import pytest

from imggan.errors import ImgganError
from imggan_generate.api import explore, generate, interpolate, load_generator


def test_seed_reproduces_and_differs(tiny_model):
    model = load_generator(tiny_model)
    a = generate(model, 4, seed=5)
    b = generate(model, 4, seed=5)
    c = generate(model, 4, seed=6)
    assert a.shape == (4, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.array_equal(a[1:], c[:3])  # image i is seed + i, whatever n
    assert not np.array_equal(a[0], c[0])


def test_interpolation_endpoints_are_the_seeds_samples(tiny_faces):
    model = load_generator(tiny_faces)
    walk = interpolate(model, 3, 11, steps=6)
    assert walk.shape[0] == 6
    assert np.array_equal(walk[0], generate(model, 1, seed=3)[0])
    assert np.array_equal(walk[-1], generate(model, 1, seed=11)[0])
    assert not np.array_equal(walk[2], walk[0])


def test_labels_and_truncation(tiny_model):
    model = load_generator(tiny_model)
    by_name = generate(model, 2, label="c2", seed=1)
    by_index = generate(model, 2, label=2, seed=1)
    assert np.array_equal(by_name, by_index)
    assert not np.array_equal(by_index, generate(model, 2, label=0, seed=1))
    with pytest.raises(ImgganError, match="unknown class"):
        generate(model, 1, label="dog")
    with pytest.raises(ImgganError, match="classes 0..2"):
        generate(model, 1, label=7)
    assert not np.array_equal(generate(model, 1, seed=1, truncation=0.5), generate(model, 1, seed=1))


def test_unconditional_refuses_a_label(tiny_faces):
    with pytest.raises(ImgganError, match="unconditional"):
        generate(load_generator(tiny_faces), 1, label=1)


@pytest.mark.parametrize("space", ["features", "latent"])
def test_explore_directions_are_orthonormal(tiny_model, space):
    found = explore(load_generator(tiny_model), components=4, columns=5, space=space, samples=300)
    d = found.directions
    assert d.shape[0] == 4
    assert np.allclose(d @ d.T, np.eye(4), atol=1e-8)
    assert np.all(np.diff(found.stddevs) <= 1e-12)  # largest variance first
    assert found.images.shape == (4, 5, 16, 16, 3)
    # the centre column (offset 0) is the unedited image of the seed, the ends differ from it
    assert np.array_equal(found.images[0, 2], generate(load_generator(tiny_model), 1, label=0, seed=0)[0])
    assert not np.array_equal(found.images[0, 0], found.images[0, 2])
