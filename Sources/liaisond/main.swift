print("liaisond")
