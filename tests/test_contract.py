"""The model contract (tests/_contract.py) run on every model and mode of nmfrec."""

from nmfrec import Recommender
from nmfrec.evaluation import GlobalMean, Popularity

from _contract import ModelContract


class TestDefaultRecommender(ModelContract):
    def make(self):
        return Recommender(random_state=0)


class TestImplicitRecommender(ModelContract):
    predicts_ratings = False    # predict returns preference scores

    def make(self):
        return Recommender(feedback="implicit", random_state=0)


class TestMURecommender(ModelContract):
    def make(self):
        return Recommender(solver="mu", random_state=0)


class TestPGDRecommender(ModelContract):
    def make(self):
        return Recommender(solver="pgd", random_state=0)


class TestPopularity(ModelContract):
    learns = False      # one ranking for everybody
    personal = False    # predicts damped item means, whoever the user

    def make(self):
        return Popularity()


class TestGlobalMean(ModelContract):
    ranks = False       # a rating predictor only
    learns = False
    personal = False

    def make(self):
        return GlobalMean()
