r"""Student-t soft clustering head (DEC).

Given embeddings :math:`z_i` and cluster centres :math:`\mu_j`,

.. math::

    q_{ij} = \frac{(1 + \lVert z_i - \mu_j \rVert^2 / \nu)^{-(\nu + 1)/2}}
                  {\sum_{j'} (1 + \lVert z_i - \mu_{j'} \rVert^2 / \nu)^{-(\nu + 1)/2}},

a Student-t kernel with :math:`\nu` degrees of freedom (:math:`\nu = 1` in DEC, SDCN and
SCGC).

The head is started, not trained from random centres: :meth:`StudentTHead.start_from`
places the centres by k-means (:func:`graphclust.kmeans.kmeans`) on the embeddings.
"""

from __future__ import annotations

import torch
from torch import nn

from graphclust._checks import check_integer, check_real
from graphclust.kmeans import kmeans, squared_distances

__all__ = ["StudentTHead", "squared_distances", "student_t_assignment"]


def student_t_assignment(
    z: torch.Tensor, centers: torch.Tensor, degrees_of_freedom: float = 1.0
) -> torch.Tensor:
    """Soft assignments :math:`Q` (module docstring), as a softmax of log-kernels."""
    nu = degrees_of_freedom
    if not 0 < nu < float("inf"):  # the kernel is undefined there: every assignment NaN
        raise ValueError(f"degrees_of_freedom must be finite and > 0, got {nu!r}")
    logits = -(nu + 1.0) / 2.0 * torch.log1p(squared_distances(z, centers) / nu)
    return torch.softmax(logits, dim=1)


class StudentTHead(nn.Module):
    """Learnable cluster centres and the Student-t soft assignment :math:`Q`.

    Parameters
    ----------
    n_clusters : int
        Number of clusters :math:`K`.
    embedding_dim : int
        Dimension of the embeddings.
    degrees_of_freedom : float
        :math:`\\nu` of the Student-t kernel.
    """

    def __init__(self, n_clusters: int, embedding_dim: int, degrees_of_freedom: float = 1.0):
        super().__init__()
        check_integer("n_clusters", n_clusters, 1)
        check_integer("embedding_dim", embedding_dim, 1)
        if not check_real("degrees_of_freedom", degrees_of_freedom) > 0:  # else Q is NaN
            raise ValueError(f"degrees_of_freedom must be > 0, got {degrees_of_freedom!r}")
        self.degrees_of_freedom = float(degrees_of_freedom)
        self.centers = nn.Parameter(torch.zeros(n_clusters, embedding_dim))

    def reset_parameters(self, centers: torch.Tensor | None = None) -> None:
        """Set the centres (typically from k-means); random normal when not given."""
        with torch.no_grad():
            if centers is None:
                nn.init.normal_(self.centers)
            elif centers.shape != self.centers.shape:  # copy_ would broadcast one row
                raise ValueError(f"centers must have shape {tuple(self.centers.shape)}, got "
                                 f"{tuple(centers.shape)}")
            else:
                self.centers.copy_(centers)

    @torch.no_grad()
    def start_from(self, z: torch.Tensor, generator: torch.Generator,
                   n_init: int = 20) -> torch.Tensor:
        """Place the centres by k-means on ``z`` (best of ``n_init`` k-means++ starts);
        returns the k-means labels."""
        found = kmeans(z, self.centers.shape[0], n_init=n_init, generator=generator)
        self.reset_parameters(found.centers)
        return found.labels

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return student_t_assignment(z, self.centers, self.degrees_of_freedom)
