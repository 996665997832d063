"""Publishers: the brand's own accounts answering posts on each network (the write side of collectors/)."""
