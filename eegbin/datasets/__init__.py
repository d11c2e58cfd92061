"""eegbin.datasets"""
