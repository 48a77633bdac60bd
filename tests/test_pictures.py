"""The results panel's pictures: the confusion matrix and the misclassified images."""

import numpy as np
import torch

from mnist_demo.pictures import confusion_image, mistake_image


def test_confusion_image_shades_right_answers_and_mistakes():
    matrix = torch.zeros(10, 10, dtype=torch.long)
    matrix.fill_diagonal_(100)
    matrix[4, 9] = 30  # a frequent mistake
    img = np.asarray(confusion_image(matrix, cell=40))
    assert img.shape == (40 + 400 + 4, 40 + 400 + 4, 3)

    def corner(r, c):  # a cell's top-left inner pixel, away from its count
        return img[40 + r * 40 + 3, 40 + c * 40 + 3]

    assert corner(0, 0)[2] == 255 and corner(0, 0)[0] < 100  # right answers: blue
    red = corner(4, 9)
    assert red[0] == 255 and red[1] < 200  # a mistake: red
    assert tuple(corner(0, 1)) == (255, 255, 255)  # never happened: white


def test_mistake_image_is_dark_ink_on_white_and_enlarged():
    digit = np.zeros((28, 28), np.uint8)
    digit[10:18, 13:15] = 255
    img = np.asarray(mistake_image(digit, scale=3))
    assert img.shape == (84, 84)
    assert img[0, 0] == 255 and img[10 * 3, 13 * 3] == 0
