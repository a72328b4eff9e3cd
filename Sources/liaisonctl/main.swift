print("liaisonctl")
