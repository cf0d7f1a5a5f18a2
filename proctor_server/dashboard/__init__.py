"""Static files of the proctor's live view, served by the exam server at `/`."""
