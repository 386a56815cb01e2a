print("devserver")
