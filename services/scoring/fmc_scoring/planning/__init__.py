"""Planning: on ``EvaluationStarted``, one gateway run per submission x suite of the stage."""
